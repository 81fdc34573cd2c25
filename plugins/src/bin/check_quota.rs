fn main() {
    hcoop_plugins::plugin::runner::main::<hcoop_plugins::checks::quota::QuotaCheck>()
}
