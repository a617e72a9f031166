//! The enclave service end to end over a real Unix socket, with the simulator behind it.

use common::secs::kss_secs;
use kss_enclave::sim::{SimCpu, SimEnclave};
use kss_enclave::Enclave;
use kss_service::{Client, ClientError, EnclaveServer, ErrorCode, Server};
use kss_types::*;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

mod common {
    pub mod secs;
}

fn start(secs: Secs) -> (Server, SimEnclave) {
    let e = SimEnclave::from_initialized_secs(secs, SimCpu::with_kss(), 256);
    let server = Server::start(Arc::new(EnclaveServer::new(Box::new(e.clone()), None))).unwrap();
    (server, e)
}

#[test]
fn socket_is_private() {
    let (server, _) = start(kss_secs(5));
    let mode = std::fs::metadata(server.socket_path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let dmode = std::fs::metadata(server.dir())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dmode, 0o700);
    let dir = server.dir().to_path_buf();
    drop(server);
    assert!(
        !dir.exists(),
        "the socket directory is removed when the service stops"
    );
}

#[test]
fn identity_report_and_key_match_the_enclave() {
    let (server, e) = start(kss_secs(5));
    let c = Client::connect(server.socket_path()).unwrap();
    let id = c.identity().unwrap();
    assert_eq!(id.config_id, ConfigId([0x33; 64]));
    assert_eq!(id.config_svn, 5);
    assert_eq!(id.isv_family_id, Id128::from_high_low(3, 4));
    assert_eq!(id.isv_ext_prod_id, Id128::from_high_low(1, 2));
    assert_eq!(id.report_data, [0; 64]);

    let t = c.target_info().unwrap();
    assert_eq!(t.config_id, ConfigId([0x33; 64]));
    assert_eq!(t.config_svn, 5);
    let r = c.report(&t, &[0x5A; 64]).unwrap();
    assert_eq!(r.body.report_data, [0x5A; 64]);
    c.verify_report(&r).unwrap();
    // A tampered report fails local attestation with a MAC error.
    let mut bad = r.clone();
    bad.body.config_svn ^= 1;
    match c.verify_report(&bad) {
        Err(ClientError::Enclave {
            code: ErrorCode::MacMismatch,
            ..
        }) => {}
        other => panic!("expected a MAC mismatch, got {other:?}"),
    }

    let req = KeyRequest {
        key_name: KeyName::Seal as u16,
        key_policy: KeyPolicy(0x3A),
        isv_svn: 3,
        config_svn: 5,
        cpu_svn: id.cpu_svn,
        attribute_mask: Attributes::new(0xFF0000000000000B, 0),
        misc_mask: 0xF0000000,
        ..KeyRequest::default()
    };
    assert_eq!(*c.get_key(&req).unwrap(), *e.get_key(&req).unwrap());
    // CONFIGSVN above the enclave's: SGX_INVALID_ISVSVN.
    let too_high = KeyRequest {
        config_svn: 6,
        ..req.clone()
    };
    match c.get_key(&too_high) {
        Err(ClientError::Enclave {
            code: ErrorCode::InvalidIsvSvn,
            ..
        }) => {}
        other => panic!("expected INVALID_ISVSVN, got {other:?}"),
    }
    // Quotes need a quoting enclave.
    assert!(matches!(
        c.quote(&[0; 64]),
        Err(ClientError::Enclave {
            code: ErrorCode::Unsupported,
            ..
        })
    ));
}

#[test]
fn many_threads_are_served_correctly() {
    let (server, e) = start(kss_secs(9));
    let path = server.socket_path().to_path_buf();
    let expected = e.target_info();
    let handles: Vec<_> = (0..8u8)
        .map(|t| {
            let path = path.clone();
            let expected = expected.clone();
            std::thread::spawn(move || {
                let c = Client::connect(&path).unwrap();
                for i in 0..50u8 {
                    let data = [t ^ i; 64];
                    let r = c.report(&expected, &data).unwrap();
                    assert_eq!(r.body.report_data, data);
                    assert_eq!(r.body.config_svn, 9);
                    c.verify_report(&r).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn sealing_through_the_service() {
    let (server, _) = start(kss_secs(5));
    let c = Client::connect(server.socket_path()).unwrap();
    let blob = kss_seal::seal(&c, b"secret", b"aad", &kss_seal::SealOptions::default()).unwrap();
    let out = kss_seal::unseal(&c, &blob).unwrap();
    assert_eq!(&out.plaintext[..], b"secret");
    assert_eq!(
        out.key_request.key_policy,
        KeyPolicy(0x3A),
        "SDK default for a KSS enclave"
    );
    assert_eq!(out.key_request.config_svn, 5);

    // Another CONFIGID cannot unseal a CONFIGID-bound blob.
    let mut other = kss_secs(5);
    other.config_id = ConfigId([0x44; 64]);
    let (server2, _) = start(other);
    let c2 = Client::connect(server2.socket_path()).unwrap();
    assert!(kss_seal::unseal(&c2, &blob).is_err());
    // An upgraded CONFIGSVN can.
    let (server3, _) = start(kss_secs(6));
    let c3 = Client::connect(server3.socket_path()).unwrap();
    assert_eq!(
        &kss_seal::unseal(&c3, &blob).unwrap().plaintext[..],
        b"secret"
    );
}

#[test]
fn outside_kss_run_is_a_clear_error() {
    std::env::remove_var(kss_service::SOCKET_ENV);
    let e = Client::from_env().err().unwrap();
    assert!(e.to_string().contains("KSS_ENCLAVE_SOCKET"));
    let bad = Client::connect(std::path::Path::new("/nonexistent/kss.sock"))
        .err()
        .unwrap();
    assert!(bad.to_string().contains("/nonexistent/kss.sock"));
}

/// The KAT enclave of `docs/sgx-reference.md` §7.4 sealed through the real simulator and the
/// service: the blob's key request is the KAT request, so its key is the KAT seal key, and an
/// independent AES-GCM (ring) opens the blob with it.
#[test]
fn sealing_uses_the_kat_seal_key() {
    let secs = Secs {
        size: 1 << 20,
        base_addr: 1 << 32,
        ssa_frame_size: 1,
        attributes: Attributes::new(0x87, 0x3),
        mr_enclave: [0x11; 32],
        mr_signer: [0x22; 32],
        config_id: ConfigId(core::array::from_fn(|i| i as u8)),
        isv_prod_id: 0x1234,
        isv_svn: 5,
        config_svn: 7,
        isv_family_id: Id128([0xAA; 16]),
        isv_ext_prod_id: Id128([0xBB; 16]),
        ..Secs::default()
    };
    let (server, _) = start(secs);
    let c = Client::connect(server.socket_path()).unwrap();
    let blob = kss_seal::seal_with_key_id(
        &c,
        [0; 32],
        b"kat plaintext",
        b"kat aad",
        &kss_seal::SealOptions::default(),
    )
    .unwrap();
    let req = KeyRequest::from_bytes(&blob[..512]).unwrap();
    assert_eq!(req.key_policy, KeyPolicy(0x3A));
    assert_eq!((req.isv_svn, req.config_svn), (5, 7));
    assert_eq!(
        hex::encode(req.cpu_svn.0),
        "4820f3376ae6b2f2034d3b7a4b48a778"
    );
    assert_eq!(
        hex::encode(*c.get_key(&req).unwrap()),
        "43a6efee07cffbfe2353d9c3f5618f20"
    );

    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
    let key = LessSafeKey::new(
        UnboundKey::new(
            &AES_128_GCM,
            &hex::decode("43a6efee07cffbfe2353d9c3f5618f20").unwrap(),
        )
        .unwrap(),
    );
    let text_len = u32::from_le_bytes(blob[512..516].try_into().unwrap()) as usize;
    let tag = &blob[544..560];
    let mut ct = blob[560..560 + text_len].to_vec();
    ct.extend_from_slice(tag);
    let aad = &blob[560 + text_len..];
    assert_eq!(aad, b"kat aad");
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key([0; 12]),
            Aad::from(aad),
            &mut ct,
        )
        .unwrap();
    assert_eq!(plain, b"kat plaintext");
}

#[test]
fn drop_returns_when_the_socket_file_was_removed() {
    let (server, _) = start(kss_secs(5));
    std::fs::remove_file(server.socket_path()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(server);
        let _ = tx.send(());
    });
    rx.recv_timeout(std::time::Duration::from_secs(5))
        .expect("dropping the server hung after its socket file was removed");
}

/// A quoting enclave on `cpu` whose "quote" is simply the REPORT body it verified.
fn stand_in_qe(cpu: &SimCpu) -> kss_service::QuotingEnclave {
    let qe_secs = Secs {
        mr_enclave: [0x5a; 32],
        ..kss_secs(0)
    };
    kss_service::QuotingEnclave {
        enclave: Box::new(SimEnclave::from_initialized_secs(qe_secs, cpu.clone(), 1)),
        sign: Box::new(|body: &ReportBody| Ok(body.to_bytes().to_vec())),
    }
}

/// A quoting enclave that fails to load makes that QUOTE request fail clearly; the failure is not
/// remembered, so a later request loads it and gets a quote over the application's REPORT, and
/// from then on the loaded quoting enclave is reused.
#[test]
fn a_failed_quoting_enclave_load_is_retried() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cpu = SimCpu::with_kss();
    let app = SimEnclave::from_initialized_secs(kss_secs(5), cpu.clone(), 256);
    let loads = Arc::new(AtomicUsize::new(0));
    let counter = loads.clone();
    let loader: kss_service::QeLoader = Box::new(move || {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err("the CA directory is unreadable".into());
        }
        Ok(stand_in_qe(&cpu))
    });
    let server = Server::start(Arc::new(EnclaveServer::new(
        Box::new(app.clone()),
        Some(loader),
    )))
    .unwrap();
    let c = Client::connect(server.socket_path()).unwrap();
    match c.quote(&[7; 64]) {
        Err(ClientError::Enclave {
            code: ErrorCode::Unsupported,
            message,
        }) => assert!(
            message.contains("the CA directory is unreadable"),
            "{message}"
        ),
        other => panic!("expected UNSUPPORTED, got {other:?}"),
    }
    for _ in 0..2 {
        let quote = c.quote(&[7; 64]).expect("the second load succeeds");
        let body = ReportBody::from_bytes(&quote).unwrap();
        assert_eq!(body.report_data, [7; 64]);
        assert_eq!(body.mr_enclave, app.secs().mr_enclave);
    }
    assert_eq!(
        loads.load(Ordering::SeqCst),
        2,
        "loaded once more, then kept"
    );
}

/// Concurrent first QUOTE requests load the quoting enclave once: the others wait for it (the
/// loader may create the CA on disk, which must not run twice at once).
#[test]
fn concurrent_first_quotes_load_the_quoting_enclave_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cpu = SimCpu::with_kss();
    let app = SimEnclave::from_initialized_secs(kss_secs(5), cpu.clone(), 256);
    let loads = Arc::new(AtomicUsize::new(0));
    let counter = loads.clone();
    let loader: kss_service::QeLoader = Box::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        // Slow enough that the other requests arrive while this one loads.
        std::thread::sleep(std::time::Duration::from_millis(200));
        Ok(stand_in_qe(&cpu))
    });
    let server = Server::start(Arc::new(EnclaveServer::new(Box::new(app), Some(loader)))).unwrap();
    let path = server.socket_path().to_path_buf();
    let barrier = std::sync::Barrier::new(4);
    std::thread::scope(|s| {
        for i in 0..4u8 {
            let (path, barrier) = (&path, &barrier);
            s.spawn(move || {
                let c = Client::connect(path).unwrap();
                barrier.wait();
                let quote = c.quote(&[i; 64]).expect("quote");
                assert_eq!(ReportBody::from_bytes(&quote).unwrap().report_data, [i; 64]);
            });
        }
    });
    assert_eq!(loads.load(Ordering::SeqCst), 1, "loaded once");
}
