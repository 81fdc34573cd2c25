//! Fuzzes the NRPE packet decoder: no input may panic it, and whatever decodes must
//! encode back to a packet that decodes the same.
#![no_main]

use hcoop_plugins::proto::nrpe::{decode, frame_len, read_packet, MAX_BUFFER_LEN};
use std::sync::OnceLock;

static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = frame_len(data, MAX_BUFFER_LEN);
    if let Ok(p) = decode(data) {
        let again = decode(&p.encode()).expect("a re-encoded packet decodes");
        assert_eq!(again, p);
    }
    let rt = RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    });
    let mut reader = data;
    let _ = rt.block_on(read_packet(&mut reader, MAX_BUFFER_LEN));
});
