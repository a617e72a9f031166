//! A connection flood: connections beyond the cap get a clear "busy" error, the service keeps
//! answering, and frees the slots of closed connections. Stale socket directories of dead
//! processes are swept.

use kss_enclave::sim::{SimCpu, SimEnclave};
use kss_service::server::{sweep_stale_dirs, MAX_CONNECTIONS, OWNER_FILE};
use kss_service::{Client, ClientError, EnclaveServer, ErrorCode, Server};
use kss_types::*;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn start() -> Server {
    let secs = Secs {
        size: 1 << 20,
        base_addr: 1 << 32,
        ssa_frame_size: 1,
        attributes: Attributes::new(0x85, 0x3),
        mr_enclave: [0x11; 32],
        ..Secs::default()
    };
    let e = SimEnclave::from_initialized_secs(secs, SimCpu::with_kss(), 256);
    Server::start(Arc::new(EnclaveServer::new(Box::new(e), None))).unwrap()
}

/// Retries `f` until it returns true or two seconds pass.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(2) {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn a_connection_flood_is_refused_and_the_service_keeps_answering() {
    let server = start();
    // Fill every slot with an idle connection, then go beyond.
    let held: Vec<Client> = (0..MAX_CONNECTIONS)
        .map(|_| Client::connect(server.socket_path()).unwrap())
        .collect();
    let extra: Vec<UnixStream> = (0..64)
        .map(|_| UnixStream::connect(server.socket_path()).unwrap())
        .collect();
    // A connection beyond the cap gets a clear error, not a hang and not an abort.
    assert!(eventually(|| {
        let c = Client::connect(server.socket_path()).unwrap();
        match c.identity() {
            Err(ClientError::Enclave {
                code: ErrorCode::Internal,
                message,
            }) => {
                assert!(message.contains("busy"), "{message}");
                assert!(message.contains(&MAX_CONNECTIONS.to_string()), "{message}");
                true
            }
            other => panic!("expected a busy error, got {other:?}"),
        }
    }));
    // The connections within the cap are still served.
    held[0].identity().unwrap();
    held[MAX_CONNECTIONS - 1].identity().unwrap();
    // Closing connections frees their slots: new clients are served again.
    drop(extra);
    drop(held);
    assert!(eventually(|| Client::connect(server.socket_path())
        .unwrap()
        .identity()
        .is_ok()));
}

#[test]
fn stale_socket_directories_of_dead_processes_are_swept() {
    let tmp = tempfile::tempdir().unwrap();
    let dead = tmp.path().join("kss-enclave-dead");
    let live = tmp.path().join("kss-enclave-live");
    let unknown = tmp.path().join("kss-enclave-unknown");
    for d in [&dead, &live, &unknown] {
        std::fs::create_dir(d).unwrap();
    }
    // No process has a pid above the kernel's maximum (2^22).
    std::fs::write(dead.join(OWNER_FILE), "99999999\n").unwrap();
    std::fs::write(live.join(OWNER_FILE), format!("{}\n", std::process::id())).unwrap();
    assert_eq!(sweep_stale_dirs(tmp.path()), 1);
    assert!(!dead.exists());
    assert!(live.exists());
    assert!(
        unknown.exists(),
        "a directory without an owner is not guessed at"
    );
}
