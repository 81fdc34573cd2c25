fn main() {
    hcoop_plugins::plugin::runner::main::<hcoop_plugins::checks::krb5::Krb5Check>()
}
