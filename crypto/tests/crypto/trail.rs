//! The whole-log audit's building blocks: the streaming tree root agrees with the stored-hash
//! tree, and batch verification names exactly the statements that do not verify.

use ferry_crypto::actions::Consent;
use ferry_crypto::log_format::{self, HashReader, TreeBuilder, TreeError, TreeHash};
use ferry_crypto::statement::verify_batched;
use ferry_crypto::{FORMAT_VERSION, Id, Identity};

struct Stored(Vec<TreeHash>);

impl HashReader for Stored {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<TreeHash>, TreeError> {
        Ok(indexes.iter().map(|&i| self.0[i as usize]).collect())
    }
}

#[test]
fn the_streaming_root_matches_the_stored_tree_at_every_size() {
    let mut stored = Stored(vec![]);
    let mut builder = TreeBuilder::default();
    assert_eq!(
        builder.root(),
        log_format::tree_hash(0, &stored).unwrap(),
        "empty tree"
    );
    for n in 0..300u64 {
        let leaf = format!("leaf {n}").into_bytes();
        let hashes = log_format::stored_hashes(n, &leaf, &stored).unwrap();
        stored.0.extend(hashes);
        builder.push(log_format::leaf_hash(&leaf));
        assert_eq!(builder.size(), n + 1);
        assert_eq!(
            builder.root(),
            log_format::tree_hash(n + 1, &stored).unwrap(),
            "size {}",
            n + 1
        );
    }
}

#[test]
fn batch_verification_names_every_statement_that_does_not_verify() {
    let alice = Identity::generate("Alice").unwrap();
    let bob = Identity::generate("Bob").unwrap();
    let case_id = Id::try_from("case-1").unwrap();
    let consent = |who: &Identity, seq: u64| {
        who.sign(&Consent {
            v: FORMAT_VERSION,
            participant: who.account_id().clone(),
            case_id: case_id.clone(),
            seq,
            created_at: 1_790_000_000,
        })
        .unwrap()
    };
    let mut statements: Vec<_> = (0..300u64)
        .map(|i| consent(if i.is_multiple_of(2) { &alice } else { &bob }, i))
        .collect();
    let (a, b) = (alice.verifying_key(), bob.verifying_key());
    let keys = |i: usize| if i.is_multiple_of(2) { &a } else { &b };
    // Clean: nothing named.
    let items: Vec<_> = statements
        .iter()
        .enumerate()
        .map(|(i, s)| (s, keys(i)))
        .collect();
    assert!(verify_batched(&items).is_empty());
    // An altered body, an altered signature, and a right signature checked with the wrong key,
    // in different batches.
    statements[5].body[20] ^= 1;
    statements[130].sig[3] ^= 0x40;
    let mut items: Vec<_> = statements
        .iter()
        .enumerate()
        .map(|(i, s)| (s, keys(i)))
        .collect();
    items[299].1 = &a;
    assert_eq!(verify_batched(&items), vec![5, 130, 299]);
    assert!(verify_batched(&[]).is_empty());
}

#[test]
fn a_leaf_made_around_a_serialized_statement_has_the_same_bytes() {
    let alice = Identity::generate("Alice").unwrap();
    let case_id = Id::try_from("case-1").unwrap();
    let statement = alice
        .sign(&Consent {
            v: FORMAT_VERSION,
            participant: alice.account_id().clone(),
            case_id: case_id.clone(),
            seq: 7,
            created_at: 1_790_000_000,
        })
        .unwrap();
    let prev = ferry_crypto::Sha256Hash::of(b"previous leaf");
    for (case, seq, prev_hash) in [
        (Some("case-1"), Some(3), Some(prev)),
        (Some("case-1"), Some(0), None),
        (None, None, None),
    ] {
        let leaf = log_format::Leaf {
            v: 1,
            idx: 41,
            case_id: case.map(str::to_owned),
            seq_in_case: seq,
            prev_hash,
            server_time: 1_790_000_100,
            statement: statement.clone(),
        };
        let head = log_format::LeafHead {
            idx: 41,
            case_id: case,
            seq_in_case: seq,
            prev_hash: prev_hash.as_ref(),
            server_time: 1_790_000_100,
        };
        let bytes = head.bytes_with(&statement.to_json()).unwrap();
        assert_eq!(bytes, leaf.to_bytes());
        assert_eq!(bytes, serde_json::to_vec(&leaf).unwrap());
        assert_eq!(log_format::Leaf::parse(&bytes).unwrap(), leaf);
    }
    let head = log_format::LeafHead {
        idx: 0,
        case_id: None,
        seq_in_case: None,
        prev_hash: None,
        server_time: 0,
    };
    assert!(head.bytes_with(b"{\"cut\": ").is_err());
}

#[test]
fn a_verifier_key_reads_back_and_refuses_anything_else() {
    let server = Identity::generate("Ferry server").unwrap();
    let vkey = log_format::verifier_key("ferry/example", &server.verifying_key());
    let (name, key) = log_format::parse_verifier_key(&vkey).unwrap();
    assert_eq!(name, "ferry/example");
    assert_eq!(key, server.verifying_key());
    let other = Identity::generate("Other").unwrap();
    let theirs = log_format::verifier_key("ferry/example", &other.verifying_key());
    // Another key under this key's id, another name, a cut key: all refused.
    let (head, _) = vkey.rsplit_once('+').unwrap();
    let (_, their_key) = theirs.rsplit_once('+').unwrap();
    for bad in [
        format!("{head}+{their_key}"),
        vkey.replacen("ferry/example", "ferry/other", 1),
        vkey[..vkey.len() - 4].to_owned(),
        "ferry/example".to_owned(),
        String::new(),
    ] {
        assert!(log_format::parse_verifier_key(&bad).is_err(), "{bad}");
    }
}
