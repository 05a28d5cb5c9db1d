//! Random input never panics the decoders.

use super::*;
use proptest::prelude::*;

proptest! {
    #[test]
    fn protobuf_random_bytes(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_protobuf(&raw, 1 << 16);
        // The same bytes as a valid snappy block, so the protobuf layer sees them.
        let body = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
        let _ = decode_protobuf(&body, 1 << 16);
    }

    #[test]
    fn json_random_bytes(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_json(&raw);
    }

    #[test]
    fn json_random_structure(s in r#"[\[\]{}",:0-9a-z\\ -]{0,80}"#) {
        let _ = decode_json(format!(r#"{{"streams":[{{"stream":{{"a":"1"}},"values":{s}}}]}}"#).as_bytes());
        let _ = decode_json(s.as_bytes());
    }

    #[test]
    fn labels_random_text(s in r#"[{}=!~"`\\, a-zA-Z0-9_.xuU\n]{0,40}"#) {
        if let Ok(l) = parse_labels(&s) {
            prop_assert_eq!(parse_labels(&format_labels(&l)).unwrap(), l);
        }
    }

    #[test]
    fn labels_round_trip(pairs in proptest::collection::vec(("[a-zA-Z_][a-zA-Z0-9_]{0,8}", any::<String>()), 0..5)) {
        let l = argus_model::Labels::from_pairs(pairs);
        prop_assert_eq!(parse_labels(&format_labels(&l)).unwrap(), l);
    }
}
