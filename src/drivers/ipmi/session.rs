//! One RMCP+ session per BMC: opened on first use, re-opened when the BMC
//! drops it, commands spaced by `[ipmi]min_command_interval` and every call
//! bounded by `[ipmi]command_retry_timeout` (retrying only on timeouts).
//!
//! ipmi-rs is blocking (std UDP sockets with a read timeout); callers run
//! [`Link::run`] on tokio's blocking pool.

use std::fmt::Debug;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ipmi_rs::connection::{CompletionErrorCode, IpmiCommand, Message, NetFn, NotEnoughData};
use ipmi_rs::rmcp::{
    ActivationError, Rmcp, RmcpIpmiError, RmcpIpmiReceiveError, RmcpIpmiSendError,
    V2_0ActivationError, V2_0WriteError,
};
use ipmi_rs::{Ipmi, IpmiError};

use super::info::IpmiInfo;
use crate::drivers::bmc::{BmcError, BmcResult};

/// The longest wait for one UDP answer; a whole call may retry several
/// times within `command_retry_timeout`.
const PACKET_TIMEOUT: Duration = Duration::from_secs(2);

/// Why one attempt failed, which decides whether to try again.
#[derive(Debug)]
pub(super) enum Fault {
    /// No answer in time, or an answer that does not belong to the session
    /// (the BMC dropped it): re-open and retry while time remains.
    Timeout(String),
    /// Final: returned as is.
    Final(BmcError),
}

pub(super) type Attempt<T> = Result<T, Fault>;

/// An open session, lent to one call at a time.
pub(super) type Conn = Ipmi<Rmcp>;

#[derive(Default)]
struct Session {
    conn: Option<Conn>,
    last_command: Option<Instant>,
}

/// The client side of one BMC.
pub(super) struct Link {
    info: IpmiInfo,
    suite: BmcResult<u8>,
    retry_timeout: Duration,
    min_interval: Duration,
    session: Mutex<Session>,
    opened: AtomicU64,
}

impl Link {
    pub(super) fn new(
        info: IpmiInfo,
        suite: BmcResult<u8>,
        retry_timeout: Duration,
        min_interval: Duration,
    ) -> Link {
        Link {
            info,
            suite,
            retry_timeout,
            min_interval,
            session: Mutex::new(Session::default()),
            opened: AtomicU64::new(0),
        }
    }

    pub(super) fn endpoint(&self) -> String {
        self.info.endpoint()
    }

    /// How many sessions this client has opened (one unless the BMC
    /// dropped one).
    pub(super) fn sessions_opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, Session> {
        match self.session.lock() {
            Ok(s) => s,
            Err(poisoned) => {
                // A panic inside ipmi-rs left the session in an unknown state.
                let mut s = poisoned.into_inner();
                s.conn = None;
                s
            }
        }
    }

    /// Runs `op` on the session, opening it first if needed. `op` may send
    /// several commands; on a timeout the session is dropped and `op` runs
    /// again on a fresh one until `command_retry_timeout` has passed.
    pub(super) fn run<T>(&self, what: &str, op: impl Fn(&mut Conn) -> Attempt<T>) -> BmcResult<T> {
        // ipmi-rs negotiates suite 3; `suite` only refuses the others.
        self.suite.clone()?;
        let mut session = self.lock();
        let deadline = Instant::now() + self.retry_timeout;
        let mut last_timeout;
        loop {
            if let Some(last) = session.last_command {
                let next = last + self.min_interval;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                }
            }
            let result = catch_unwind(AssertUnwindSafe(|| -> Attempt<T> {
                if session.conn.is_none() {
                    session.conn = Some(self.open()?);
                    self.opened.fetch_add(1, Ordering::Relaxed);
                }
                match session.conn.as_mut() {
                    Some(conn) => op(conn),
                    None => Err(Fault::Timeout("no session".into())),
                }
            }));
            session.last_command = Some(Instant::now());
            match result {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(Fault::Final(e))) => return Err(e),
                Ok(Err(Fault::Timeout(detail))) => {
                    session.conn = None;
                    last_timeout = detail;
                }
                Err(_) => {
                    session.conn = None;
                    return Err(BmcError::Failed(format!(
                        "IPMI {what} to the BMC at {} failed: the RMCP+ client stopped unexpectedly.",
                        self.endpoint()
                    )));
                }
            }
            if Instant::now() + PACKET_TIMEOUT.min(self.retry_timeout) > deadline {
                break;
            }
        }
        Err(BmcError::Unreachable(format!(
            "The BMC at {} did not answer IPMI {what} within {} s ({last_timeout}): check ipmi_address, ipmi_port and that the BMC is reachable over the network.",
            self.endpoint(),
            self.retry_timeout.as_secs()
        )))
    }

    fn open(&self) -> Attempt<Conn> {
        let target = (self.info.address.as_str(), self.info.port);
        let mut rmcp = Rmcp::new(target, PACKET_TIMEOUT.min(self.retry_timeout)).map_err(|e| {
            Fault::Final(BmcError::Unreachable(format!(
                "Cannot resolve the BMC address {}: {e}. Check ipmi_address.",
                self.info.address
            )))
        })?;
        let password = self.info.password.expose().as_bytes();
        rmcp.activate(
            true,
            self.info.username.as_deref(),
            (!password.is_empty()).then_some(password),
        )
        .map_err(|e| self.activation_fault(e))?;
        let mut conn = Ipmi::new(rmcp);
        // An RMCP+ session starts at USER privilege; power and boot
        // options need ADMINISTRATOR, as `ipmitool -L ADMINISTRATOR` asks.
        self.send(
            &mut conn,
            "Set Session Privilege Level",
            SetSessionPrivilege::ADMINISTRATOR,
        )?;
        Ok(conn)
    }

    fn activation_fault(&self, e: ActivationError) -> Fault {
        let auth = |detail: &str| {
            Fault::Final(BmcError::Auth(format!(
                "IPMI authentication to the BMC at {} failed ({detail}): check ipmi_username and ipmi_password.",
                self.endpoint()
            )))
        };
        match e {
            ActivationError::PingSend(io) | ActivationError::PongReceive(io) => {
                self.io_fault(io, "RMCP ping")
            }
            ActivationError::BindSocket(io) => Fault::Final(BmcError::Failed(format!(
                "Cannot open a UDP socket for the BMC at {}: {io}",
                self.endpoint()
            ))),
            ActivationError::PongRead
            | ActivationError::IpmiNotSupported
            | ActivationError::NoSupportedIpmiLANVersions
            | ActivationError::RmcpError(_) => Fault::Final(BmcError::Failed(format!(
                "The device at {} does not speak IPMI 2.0 over LAN (RMCP+): check ipmi_address and ipmi_port.",
                self.endpoint()
            ))),
            ActivationError::GetChannelAuthenticationCapabilities(e) => {
                self.command_fault("Get Channel Authentication Capabilities", e)
            }
            ActivationError::V1_5(e) => auth(&format!("IPMI 1.5 session: {e:?}")),
            ActivationError::V2_0(e) => match e {
                V2_0ActivationError::Io(io)
                | V2_0ActivationError::OpenSessionRequestSend(V2_0WriteError::Io(io))
                | V2_0ActivationError::SendRakpMessage1(V2_0WriteError::Io(io))
                | V2_0ActivationError::RakpMessage3Send(V2_0WriteError::Io(io))
                | V2_0ActivationError::OpenSessionResponseReceive(RmcpIpmiReceiveError::Io(io))
                | V2_0ActivationError::RakpMessage2Receive(RmcpIpmiReceiveError::Io(io))
                | V2_0ActivationError::RakpMessage4Receive(RmcpIpmiReceiveError::Io(io)) => {
                    self.io_fault(io, "RMCP+ session setup")
                }
                V2_0ActivationError::OpenSessionResponseParse(p) => Fault::Final(BmcError::Auth(
                    format!(
                        "The BMC at {} refused to open an RMCP+ session with cipher suite 3 ({p:?}): check the BMC's cipher suites, ipmi_cipher_suite and ipmi_username.",
                        self.endpoint()
                    ),
                )),
                V2_0ActivationError::RakpMessage2Parse(p) => {
                    auth(&format!("RAKP message 2: {p:?}, the user name may be unknown"))
                }
                V2_0ActivationError::ServerAuthenticationFailed => {
                    auth("the BMC's RAKP message 2 does not match the password")
                }
                V2_0ActivationError::RakpMessage4Parse(p) => auth(&format!("RAKP message 4: {p:?}")),
                V2_0ActivationError::RakpMessage4InvalidIntegrityCheckValue => {
                    auth("RAKP message 4 integrity check failed")
                }
                other => Fault::Final(BmcError::Failed(format!(
                    "Opening an RMCP+ session with the BMC at {} failed: {other:?}",
                    self.endpoint()
                ))),
            },
        }
    }

    fn io_fault(&self, e: io::Error, step: &str) -> Fault {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                Fault::Timeout(format!("{step}: no answer"))
            }
            io::ErrorKind::ConnectionRefused => Fault::Final(BmcError::Unreachable(format!(
                "The BMC at {} refused the connection ({step}: nothing listens on UDP port {}): check ipmi_address and ipmi_port.",
                self.endpoint(),
                self.info.port
            ))),
            _ => Fault::Final(BmcError::Unreachable(format!(
                "The BMC at {} is unreachable ({step}: {e}): check ipmi_address and the network.",
                self.endpoint()
            ))),
        }
    }

    /// Maps a failed command. Completion codes are final; transport
    /// trouble means the session is gone or the packet was lost.
    pub(super) fn command_fault<P: Debug>(
        &self,
        what: &str,
        e: IpmiError<RmcpIpmiError, P>,
    ) -> Fault {
        match e {
            IpmiError::Connection(RmcpIpmiError::Receive(RmcpIpmiReceiveError::Io(io)))
            | IpmiError::Connection(RmcpIpmiError::Send(RmcpIpmiSendError::V2_0(
                V2_0WriteError::Io(io),
            ))) => self.io_fault(io, what),
            IpmiError::Connection(other) => Fault::Timeout(format!("{what}: {other:?}")),
            IpmiError::UnexpectedResponse { .. } => {
                Fault::Timeout(format!("{what}: an answer to another request"))
            }
            IpmiError::NetFnIsResponse(_) => {
                Fault::Final(BmcError::Failed(format!("IPMI {what}: bad request")))
            }
            IpmiError::Failed {
                completion_code, ..
            } => Fault::Final(completion_error(&self.endpoint(), what, completion_code)),
            IpmiError::Command {
                error,
                completion_code: Some(cc),
                ..
            } => Fault::Final(BmcError::Failed(format!(
                "The BMC at {} answered IPMI {what} with {cc:?} ({error:?}).",
                self.endpoint()
            ))),
            IpmiError::Command { error, .. } => Fault::Final(BmcError::Failed(format!(
                "The BMC at {} sent an answer to IPMI {what} that Berth cannot read ({error:?}).",
                self.endpoint()
            ))),
        }
    }

    /// Sends one command and maps its failure.
    pub(super) fn send<C>(&self, conn: &mut Conn, what: &str, cmd: C) -> Attempt<C::Output>
    where
        C: IpmiCommand,
        C::Error: Debug,
    {
        conn.send_recv(cmd).map_err(|e| self.command_fault(what, e))
    }
}

/// Set Session Privilege Level (§22.18).
pub(super) struct SetSessionPrivilege(u8);

impl SetSessionPrivilege {
    pub(super) const ADMINISTRATOR: SetSessionPrivilege = SetSessionPrivilege(0x04);
}

impl From<SetSessionPrivilege> for Message {
    fn from(p: SetSessionPrivilege) -> Message {
        Message::new_request(NetFn::App, 0x3b, vec![p.0])
    }
}

impl IpmiCommand for SetSessionPrivilege {
    type Output = ();
    type Error = NotEnoughData;

    fn parse_success_response(_: &[u8]) -> Result<(), NotEnoughData> {
        Ok(())
    }
}

fn completion_error(endpoint: &str, what: &str, cc: CompletionErrorCode) -> BmcError {
    match cc {
        CompletionErrorCode::InsufficientPrivilege => BmcError::Auth(format!(
            "The BMC at {endpoint} refused IPMI {what}: insufficient privilege for ipmi_username (an ADMINISTRATOR account is needed)."
        )),
        CompletionErrorCode::InvalidCommand
        | CompletionErrorCode::InvalidDataFieldInRequest
        | CompletionErrorCode::ParameterOutOfRange => BmcError::Unsupported(format!(
            "The BMC at {endpoint} does not support IPMI {what} ({cc:?})."
        )),
        other => BmcError::Failed(format!(
            "The BMC at {endpoint} answered IPMI {what} with {other:?}."
        )),
    }
}
