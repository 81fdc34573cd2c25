fn main() {
    hcoop_plugins::plugin::runner::main::<hcoop_plugins::checks::nrpe_client::NrpeClientCheck>()
}
