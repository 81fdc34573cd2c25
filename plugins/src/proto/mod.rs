//! Protocol clients and wire formats, with no thresholds in them: checks and the
//! scheduler build on these; they never import a check.

pub mod dns;
pub mod http;
pub mod icmp;
pub mod imap;
pub mod krb;
pub mod mail;
pub mod net;
pub mod nrpe;
pub mod ntp;
pub mod random;
pub mod rx;
pub mod service;
pub mod smtp;
pub mod tls;
pub mod ubik;
