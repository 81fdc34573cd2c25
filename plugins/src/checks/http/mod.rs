//! check_http, one family in one directory: the command line both modes take
//! ([`args`]), one URL ([`page`]), and every virtual host of a list or an Apache
//! configuration ([`vhosts`]), each judged as one URL is. The HTTP client, the
//! fetching of a page's facts and the vhost lists are in `proto::http`.

pub mod args;
pub mod page;
pub mod vhosts;

pub use args::Args;
pub use page::HttpCheck;

use crate::plugin::{Check, UsageError, Work};

/// check_http's two modes, chosen by its arguments: one URL ([`page`]), or every virtual
/// host of a list ([`vhosts`]) each judged as one URL is.
pub enum HttpModes {
    One(page::HttpCheck),
    Many(vhosts::VhostsCheck<page::HttpCheck>),
}

impl Check for HttpModes {
    type Args = args::Args;
    type Facts = crate::plugin::CheckResult;
    const LABEL: &'static str = "HTTP";

    fn common(args: &args::Args) -> &crate::plugin::CommonArgs {
        &args.common
    }

    fn new(args: args::Args) -> Result<Self, UsageError> {
        if !args.is_multi() {
            return page::HttpCheck::new(args).map(HttpModes::One);
        }
        let page = page::HttpCheck::from_args(&args, true)?;
        vhosts::VhostsCheck::new(&args, page).map(HttpModes::Many)
    }

    fn evaluate(&self, facts: &crate::plugin::CheckResult) -> crate::plugin::CheckResult {
        facts.clone()
    }
    fn fetch(&self) -> Work<'_, crate::plugin::CheckResult> {
        match self {
            HttpModes::One(c) => c.run(),
            HttpModes::Many(c) => Work::Remote(Box::pin(c.run())),
        }
    }
}
