//! `-4`/`-6` on their own, for network checks whose target is not the contract's
//! [`super::args::TargetArgs`] (check_http's virtual host and address).

use super::target::Family;

/// The address family `-4`/`-6` ask for.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct FamilyArgs {
    /// Use IPv4 only
    #[arg(short = '4', long = "use-ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6', long = "use-ipv6")]
    pub ipv6: bool,
}

impl FamilyArgs {
    /// The family asked for (any when neither flag is given).
    pub fn family(&self) -> Family {
        Family::from_flags(self.ipv4, self.ipv6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Probe {
        #[command(flatten)]
        family: FamilyArgs,
    }

    #[test]
    fn one_family_or_any() {
        let f = |argv: &[&str]| Probe::try_parse_from(argv).map(|p| p.family.family());
        assert_eq!(f(&["x"]).unwrap(), Family::Any);
        assert_eq!(f(&["x", "-4"]).unwrap(), Family::V4);
        assert_eq!(f(&["x", "-6"]).unwrap(), Family::V6);
        assert!(f(&["x", "-4", "-6"]).is_err());
    }
}
