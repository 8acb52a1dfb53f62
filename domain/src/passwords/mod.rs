//! Password hashing (SPEC §3): argon2id with the OWASP parameters (19 MiB memory, 2
//! iterations, 1 lane). Hashing runs on a fixed set of threads fed by a queue, so a burst
//! of logins cannot take more than `threads × 19 MiB` of memory or starve the async runtime.
//! Verifying an unknown account runs against a fixed dummy hash so it costs the same time.

mod policy;
pub use policy::*;

pub(crate) mod throttle;
pub use throttle::*;

use crate::DomainError;
use anyhow::Context as _;
use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::{mpsc, Arc, Mutex, OnceLock};

/// OWASP Password Storage Cheat Sheet, argon2id option 2: m=19456 KiB, t=2, p=1.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const LANES: u32 = 1;

/// A password hash or verification waiting for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads: a fixed set of OS threads fed through one queue. A fixed set, not
/// tokio's blocking pool, because each thread keeps its 19 MiB working memory for the next
/// verification (`WORKING_MEMORY`): with a few long-lived threads the memory stays at
/// `threads × 19 MiB` however many sign-ins wait (measured in `bench/login`), and the
/// async runtime is never blocked.
struct HashingThreads {
    queue: Mutex<mpsc::Sender<Job>>,
    /// Jobs queued and not yet started; past [`QUEUE_PER_THREAD`] × threads a new one is
    /// refused (503) rather than queued behind minutes of work.
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
}

/// Jobs that may wait per hashing thread before new ones are refused.
pub const QUEUE_PER_THREAD: usize = 16;

/// Takes a waiting job off the count when it starts, or when it is dropped unstarted.
struct Waiting(&'static std::sync::atomic::AtomicUsize);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

static THREADS: OnceLock<HashingThreads> = OnceLock::new();

/// Sets how many hashes may run at once (default: the number of CPUs). Only the first
/// call has an effect.
pub fn configure_concurrency(threads: usize) {
    let _ = THREADS.set(HashingThreads::start(threads));
}

impl HashingThreads {
    fn start(threads: usize) -> Self {
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads.max(1) {
            let jobs = jobs.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || loop {
                    // The lock is held only while taking a job, not while running it.
                    let job = match jobs.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panicking job drops its reply channel; the caller gets an error.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "starting a password hashing thread failed");
            }
        }
        Self {
            queue: Mutex::new(queue),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            max_waiting: threads.max(1) * QUEUE_PER_THREAD,
        }
    }
}

/// The refusal when the hashing queue is full.
pub const BUSY: &str = "the server is busy; try again in a moment";

fn threads() -> &'static HashingThreads {
    THREADS.get_or_init(|| {
        HashingThreads::start(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        )
    })
}

fn argon2() -> Result<Argon2<'static>, DomainError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Runs `work` on a hashing thread and waits for it without blocking the runtime.
async fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DomainError> {
    threads().run(work).await
}

impl HashingThreads {
    /// Runs `work` on one of these threads. A full queue answers
    /// [`DomainError::Unavailable`] at once (NFR-SEC-005: a flood of sign-ins cannot queue
    /// unbounded work); a job whose caller has gone (the request was cancelled) is skipped
    /// when its turn comes.
    async fn run<T: Send + 'static>(
        &'static self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        use std::sync::atomic::Ordering;
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(DomainError::Unavailable(BUSY.into()));
        }
        let waiting = Waiting(&self.waiting);
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            drop(waiting);
            if reply.is_closed() {
                return;
            }
            let _ = reply.send(work());
        });
        self.queue
            .lock()
            .map_err(|_| anyhow::anyhow!("password hashing queue poisoned"))?
            .send(job)
            .map_err(|_| anyhow::anyhow!("password hashing threads stopped"))?;
        answer
            .await
            .context("password hashing failed")
            .map_err(DomainError::from)
    }
}

/// Hashes a password into a PHC string.
pub async fn hash_password(password: &SecretString) -> Result<String, DomainError> {
    let password = password.clone();
    bounded(move || -> Result<String, DomainError> {
        let salt = SaltString::generate(&mut OsRng);
        let hash = argon2()?
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
        Ok(hash.to_string())
    })
    .await?
}

/// A hash of a random password, verified against when the account does not exist.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .ok()
            .and_then(|a| {
                a.hash_password(crate::random_token().as_bytes(), &salt)
                    .ok()
            })
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// True when `password` matches `stored`. With `stored == None` (no such account, or no
/// password set) it spends the same time on a dummy hash and answers false.
pub async fn verify_password(
    stored: Option<String>,
    password: &SecretString,
) -> Result<bool, DomainError> {
    let password = password.clone();
    bounded(move || -> Result<bool, DomainError> {
        let (phc, real) = match &stored {
            Some(h) => (h.as_str(), true),
            None => (dummy_hash(), false),
        };
        let parsed = PasswordHash::new(phc)
            .map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
        let matches = WORKING_MEMORY.with(|memory| {
            verify_in(
                &parsed,
                password.expose_secret().as_bytes(),
                &mut memory.borrow_mut(),
            )
        })?;
        Ok(real && matches)
    })
    .await?
}

thread_local! {
    /// Each hashing thread's argon2 working memory (19 MiB with our parameters), kept
    /// between verifications: allocating it afresh costs a page fault per 4 KiB, about a
    /// fifth of a verification's time. Argon2's first pass overwrites every block, so
    /// nothing of one verification reaches the next.
    static WORKING_MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// argon2 of `password` with the algorithm, version, parameters and salt of `phc`,
/// compared with its hash in constant time (`Output`'s equality), in `memory`.
fn verify_in(
    phc: &PasswordHash<'_>,
    password: &[u8],
    memory: &mut Vec<Block>,
) -> Result<bool, DomainError> {
    let malformed = |e: argon2::password_hash::Error| {
        DomainError::from(anyhow::anyhow!("stored password hash is malformed: {e}"))
    };
    let algorithm = Algorithm::try_from(phc.algorithm).map_err(malformed)?;
    let version = phc
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| anyhow::anyhow!("stored password hash has a bad version: {e}"))?
        .unwrap_or_default();
    let params = Params::try_from(phc).map_err(malformed)?;
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return Ok(false);
    };
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes).map_err(malformed)?;
    memory.resize(params.block_count(), Block::default());
    let argon = Argon2::new(algorithm, version, params);
    let computed = Output::init_with(expected.len(), |out| {
        argon
            .hash_password_into_with_memory(password, salt, out, &mut memory[..])
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|e| anyhow::anyhow!("argon2 verification failed: {e}"))?;
    Ok(computed == expected)
}

/// The raw argon2id verification rate with these parameters: `threads` OS threads
/// verifying a right password for `seconds`, without the server around them, each with
/// its working memory kept as the hashing threads keep theirs — the baseline of the
/// login benchmark. Returns verifications per second.
pub fn raw_verify_rate(threads: usize, seconds: f64) -> Result<f64, DomainError> {
    let salt = SaltString::generate(&mut OsRng);
    let phc = argon2()?
        .hash_password(b"benchmark password", &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?
        .to_string();
    let started = std::time::Instant::now();
    let deadline = std::time::Duration::from_secs_f64(seconds);
    let counts: Vec<Result<u64, DomainError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                let phc = phc.as_str();
                scope.spawn(move || -> Result<u64, DomainError> {
                    let parsed = PasswordHash::new(phc)
                        .map_err(|e| anyhow::anyhow!("benchmark hash: {e}"))?;
                    let mut memory = Vec::new();
                    let mut n = 0;
                    while started.elapsed() < deadline {
                        if verify_in(&parsed, b"benchmark password", &mut memory)? {
                            n += 1;
                        }
                    }
                    Ok(n)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .map_err(|_| DomainError::from(anyhow::anyhow!("benchmark thread failed")))?
            })
            .collect()
    });
    let total: u64 = counts.into_iter().sum::<Result<u64, DomainError>>()?;
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A burst beyond the queue is refused at once (503 upstream) instead of waiting, and
    /// a job whose caller has gone never runs.
    #[tokio::test]
    async fn a_full_queue_refuses_and_abandoned_jobs_are_skipped() {
        let pool: &'static HashingThreads = Box::leak(Box::new(HashingThreads::start(1)));
        let ran: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
        let slow = move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            ran.fetch_add(1, Ordering::SeqCst);
        };
        let burst = QUEUE_PER_THREAD + 20;
        let results = futures_util::future::join_all((0..burst).map(|_| pool.run(slow))).await;
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(DomainError::Unavailable(m)) if m == BUSY))
            .count();
        assert!(refused >= 19, "{refused} of {burst} refused");
        assert_eq!(ran.load(Ordering::SeqCst), burst - refused);

        // Callers that give up before their turn: their jobs are dropped unrun.
        ran.store(0, Ordering::SeqCst);
        let blocker = tokio::spawn(
            pool.run(move || std::thread::sleep(std::time::Duration::from_millis(200))),
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let gone = (0..5).map(|_| pool.run(slow));
        let _ = tokio::time::timeout(std::time::Duration::from_millis(10), async {
            futures_util::future::join_all(gone).await
        })
        .await;
        blocker.await.unwrap().unwrap();
        pool.run(|| ()).await.unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 0, "abandoned jobs never ran");
        assert_eq!(pool.waiting.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn hash_verifies_only_the_right_password() {
        let pw = SecretString::from("correct horse battery staple".to_owned());
        let hash = hash_password(&pw).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password(Some(hash.clone()), &pw).await.unwrap());
        assert!(
            !verify_password(Some(hash), &SecretString::from("wrong".to_owned()))
                .await
                .unwrap()
        );
        assert!(!verify_password(None, &pw).await.unwrap());
    }

    #[test]
    fn verification_in_kept_memory_agrees_with_argon2_for_any_parameters() {
        use argon2::PasswordVerifier;
        let mut memory = Vec::new();
        // Our parameters, then smaller and larger ones (older or stronger stored hashes),
        // through the same memory, which grows and shrinks between them.
        for (m, t, p) in [
            (MEMORY_KIB, ITERATIONS, LANES),
            (8, 1, 1),
            (64, 3, 2),
            (MEMORY_KIB, 2, 1),
        ] {
            let argon = Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(m, t, p, None).unwrap(),
            );
            let salt = SaltString::generate(&mut OsRng);
            let phc = argon.hash_password(b"right", &salt).unwrap().to_string();
            let parsed = PasswordHash::new(&phc).unwrap();
            assert!(verify_in(&parsed, b"right", &mut memory).unwrap(), "{phc}");
            assert!(!verify_in(&parsed, b"wrong", &mut memory).unwrap(), "{phc}");
            assert!(argon.verify_password(b"right", &parsed).is_ok());
        }
        // Another tool's argon2i hash (version 0x10) verifies too.
        let old = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(16, 2, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let phc = old.hash_password(b"legacy", &salt).unwrap().to_string();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(verify_in(&parsed, b"legacy", &mut memory).unwrap());
        assert!(!verify_in(&parsed, b"legacy!", &mut memory).unwrap());
    }
}
