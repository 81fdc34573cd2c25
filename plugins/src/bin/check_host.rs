#![cfg_attr(not(test), no_main)]
hcoop_plugins::plugin_main!(hcoop_plugins::checks::icmp::HostCheck);
