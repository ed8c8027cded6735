//! Coordinators' commands: cases and staff invitations; `case show` / `case list` for all.

use anyhow::{Result, bail};
use clap::Subcommand;
use ferry_crypto::actions::{
    Allocation, CaseAction, CaseOpen, CaseState, Invitation, InvitationCode, RiskAssessment,
    RiskOutcome, invitation_hash, new_invitation_code,
};
use ferry_crypto::{AccountId, FORMAT_VERSION, Id, Role};
use ferry_protocol::{Accepted, CaseView, InvitationRequest, StaffMember, StaffRole};

use crate::account::Account;
use crate::client::now;
use crate::env::Env;
use crate::output::{Out, time};

/// `ferry case …`
#[derive(Subcommand)]
pub enum CaseCmd {
    /// Opens a case from a referral.
    Open {
        /// The service's reference (no names).
        #[arg(long)]
        reference: String,
        /// Crime or harm category, e.g. burglary.
        #[arg(long)]
        category: String,
        /// `standard`, or the accreditation a facilitator needs (sexual_harm, domestic_abuse, ...).
        #[arg(long, default_value = "standard")]
        sensitivity: String,
        /// Case id (default: a new random one).
        #[arg(long)]
        id: Option<String>,
    },
    /// Allocates a facilitator to a case.
    Allocate {
        /// The case.
        case: String,
        /// The facilitator: their name as `ferry staff list` shows it, or their account id.
        facilitator: String,
    },
    /// Invites a person to a role in a case and prints their one-time code.
    Invite {
        /// The case.
        case: String,
        /// harmed, responsible, supporter or auditor.
        #[arg(long)]
        role: Role,
        /// Days until the code stops working (1 to 30).
        #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(i64).range(1..=30))]
        expires_days: i64,
        /// Also e-mail the invitation to this address (if the server sends e-mail).
        #[arg(long)]
        email: Option<String>,
    },
    /// Records the outcome of the risk assessment.
    Risk {
        /// The case.
        case: String,
        /// proceed or do-not-proceed.
        #[arg(value_parser = ["proceed", "do-not-proceed"])]
        outcome: String,
    },
    /// Pauses a case: nothing moves until it is resumed.
    Pause {
        /// The case.
        case: String,
    },
    /// Resumes a paused case (every participant must consent); held forwards are released.
    Resume {
        /// The case.
        case: String,
    },
    /// Closes a case for good; held forwards are cancelled.
    Close {
        /// The case.
        case: String,
    },
    /// Shows a case: state, people, consent, message counts. Never content.
    Show {
        /// The case.
        case: String,
    },
    /// Lists the cases you can see.
    List,
}

/// `ferry staff …`
#[derive(Subcommand)]
pub enum StaffCmd {
    /// Lists the service's staff: coordinators, facilitators (with accreditations and open
    /// cases) and auditors.
    List {
        /// Only people in this role.
        #[arg(long)]
        role: Option<Role>,
    },
    /// Invites a coordinator, facilitator or auditor and prints their one-time code.
    Invite {
        /// coordinator, facilitator or auditor.
        #[arg(long)]
        role: Role,
        /// Accreditations of a facilitator (repeat), e.g. sexual_harm.
        #[arg(long = "accreditation")]
        accreditations: Vec<String>,
        /// Days until the code stops working (1 to 30).
        #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(i64).range(1..=30))]
        expires_days: i64,
        /// Also e-mail the invitation to this address (if the server sends e-mail).
        #[arg(long)]
        email: Option<String>,
    },
}

fn id(text: &str) -> Result<Id> {
    Id::try_from(text).map_err(|e| anyhow::anyhow!("{text:?} is not a valid id: {e}"))
}

/// A short random case id such as `c-7f3k2q9m`: 40 bits, easy to say and type; the server
/// refuses a duplicate.
fn new_case_id() -> Id {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let bytes: [u8; 8] = rand::random();
    let s: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect();
    Id::try_from(format!("c-{s}")).unwrap_or_else(|_| Id::random())
}

/// What an invitation is for.
struct InviteTo {
    case: Option<Id>,
    role: Role,
    accreditations: Vec<String>,
    expires_days: i64,
    email: Option<String>,
}

/// Makes a one-time code, signs the invitation naming its hash, registers it (at the case, or
/// service-wide for staff) and prints the code to hand over (the server also e-mails it when
/// an address is given and it sends e-mail).
fn invite(account: &Account, out: &mut Out<'_>, to: InviteTo) -> Result<()> {
    let InviteTo {
        case,
        role,
        accreditations,
        expires_days,
        email,
    } = to;
    let code = new_invitation_code();
    let now = now();
    let expires_at = now + expires_days * 86_400;
    let statement = account.sign(&Invitation {
        v: FORMAT_VERSION,
        coordinator: account.identity.account_id().clone(),
        case_id: case.clone(),
        role,
        accreditations,
        invitation: invitation_hash(&code),
        expires_at,
        seq: account.next_seq()?,
        created_at: now,
    })?;
    let path = match &case {
        Some(c) => format!("/v1/cases/{c}/invitations"),
        None => "/v1/invitations".to_owned(),
    };
    let accepted: Accepted = account.client.post(
        &path,
        &InvitationRequest {
            statement,
            code: code.clone(),
            email: email.clone(),
        },
    )?;
    // Handed over with the fingerprint of the server key pinned at this coordinator's
    // enrolment, which the person enrolling checks.
    let server_key = crate::pin::server_card(&account.profile)?.fingerprint();
    let code = InvitationCode::new(&code, &server_key).to_string();
    out.json(&serde_json::json!({
        "code": code, "role": role.as_str(), "case_id": case.as_ref().map(Id::as_str),
        "expires_at": expires_at, "event": accepted.event, "mailed": accepted.mailed,
    }))?;
    let place = case.map(|c| format!(" in case {c}")).unwrap_or_default();
    out.line(format!(
        "Invitation for {}{place}, valid until {} UTC:",
        role.a_person(),
        time(expires_at)
    ))?;
    out.line(format!("    {code}"))?;
    out.line(format!(
        "They enrol with:  ferry enrol {} {code} --name \"Their Name\"",
        account.profile.server
    ))?;
    match (&email, accepted.mailed) {
        (Some(address), true) => out.line(format!("It is also on its way by e-mail to {address}; it works once."))?,
        (Some(_), false) => out.line(
            "This server does not send e-mail: hand the code over in person or by a trusted channel; it works once.",
        )?,
        (None, _) => out.line("Hand it over in person or by a trusted channel; it works once.")?,
    }
    Ok(())
}

impl CaseCmd {
    /// Runs the case command.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let account = Account::open(env, profile)?;
        let me = account.identity.account_id().clone();
        let now = now();
        let state_change = |case: &str, action: CaseAction| -> Result<Accepted> {
            let body = CaseState {
                v: FORMAT_VERSION,
                coordinator: me.clone(),
                case_id: id(case)?,
                action,
                seq: account.next_seq()?,
                created_at: now,
            };
            account.post_signed(&format!("/v1/cases/{case}/state"), &body)
        };
        match self {
            CaseCmd::Open {
                reference,
                category,
                sensitivity,
                id: given,
            } => {
                let case_id = match given {
                    Some(g) => id(&g)?,
                    None => new_case_id(),
                };
                let body = CaseOpen {
                    v: FORMAT_VERSION,
                    coordinator: me,
                    case_id: case_id.clone(),
                    reference,
                    category,
                    sensitivity,
                    seq: account.next_seq()?,
                    created_at: now,
                };
                let a = account.post_signed("/v1/cases", &body)?;
                out.json(&serde_json::json!({"case_id": case_id, "event": a.event, "state": a.case_state}))?;
                out.line(format!(
                    "Opened case {case_id} ({}).",
                    a.case_state.map(|s| s.to_string()).unwrap_or_default()
                ))?;
            }
            CaseCmd::Allocate { case, facilitator } => {
                let staff: Vec<StaffMember> = account.client.get("/v1/staff")?;
                let facilitator = find_facilitator(&staff, &facilitator)?;
                let body = Allocation {
                    v: FORMAT_VERSION,
                    coordinator: me,
                    case_id: id(&case)?,
                    facilitator: facilitator.clone(),
                    seq: account.next_seq()?,
                    created_at: now,
                };
                let a = account.post_signed(&format!("/v1/cases/{case}/allocations"), &body)?;
                out.json(&a)?;
                let name = staff
                    .iter()
                    .find(|s| s.account_id == facilitator.as_str())
                    .map_or(facilitator.as_str(), |s| s.display_name.as_str());
                out.line(format!(
                    "Allocated {name} ({facilitator}) to case {case}; the case is {}.",
                    a.case_state.map(|s| s.to_string()).unwrap_or_default()
                ))?;
            }
            CaseCmd::Invite {
                case,
                role,
                expires_days,
                email,
            } => {
                let case = Some(id(&case)?);
                invite(
                    &account,
                    out,
                    InviteTo {
                        case,
                        role,
                        accreditations: vec![],
                        expires_days,
                        email,
                    },
                )?;
            }
            CaseCmd::Risk { case, outcome } => {
                let body = RiskAssessment {
                    v: FORMAT_VERSION,
                    coordinator: me,
                    case_id: id(&case)?,
                    outcome: if outcome == "proceed" {
                        RiskOutcome::Proceed
                    } else {
                        RiskOutcome::DoNotProceed
                    },
                    seq: account.next_seq()?,
                    created_at: now,
                };
                let a = account.post_signed(&format!("/v1/cases/{case}/risk-assessment"), &body)?;
                out.json(&a)?;
                out.line(format!(
                    "Risk assessment recorded: {outcome}. The case is {}.",
                    a.case_state.map(|s| s.to_string()).unwrap_or_default()
                ))?;
            }
            CaseCmd::Pause { case } => {
                let a = state_change(&case, CaseAction::Pause)?;
                out.json(&a)?;
                out.line(format!(
                    "Case {case} is paused: nothing moves until it is resumed."
                ))?;
            }
            CaseCmd::Resume { case } => {
                let a = state_change(&case, CaseAction::Resume)?;
                out.json(&a)?;
                out.line(format!(
                    "Case {case} is {} again; held forwards were released.",
                    a.case_state.map(|s| s.to_string()).unwrap_or_default()
                ))?;
            }
            CaseCmd::Close { case } => {
                let a = state_change(&case, CaseAction::Close)?;
                out.json(&a)?;
                out.line(format!("Case {case} is closed."))?;
            }
            CaseCmd::Show { case } => {
                let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
                if out.json {
                    return out.json(&view);
                }
                show(out, &view)?;
            }
            CaseCmd::List => {
                let views: Vec<CaseView> = account.client.get("/v1/cases")?;
                let rows = views
                    .iter()
                    .map(|v| {
                        vec![
                            v.case_id.clone(),
                            v.reference.clone(),
                            v.category.clone(),
                            v.sensitivity.clone(),
                            v.state.to_string(),
                            v.members.len().to_string(),
                            time(v.created_at),
                        ]
                    })
                    .collect();
                out.table(
                    &views,
                    &[
                        "case",
                        "reference",
                        "category",
                        "sensitivity",
                        "state",
                        "people",
                        "opened",
                    ],
                    rows,
                )?;
            }
        }
        Ok(())
    }
}

/// Prints a case view as text.
pub fn show(out: &mut Out<'_>, view: &CaseView) -> Result<()> {
    out.line(format!("Case {}  ({})", view.case_id, view.reference))?;
    out.line(format!("  state        {}", view.state))?;
    out.line(format!(
        "  category     {} ({})",
        view.category, view.sensitivity
    ))?;
    out.line(format!(
        "  risk         {}",
        view.risk_outcome.as_deref().unwrap_or("not yet assessed")
    ))?;
    out.line(format!("  opened       {} UTC", time(view.created_at)))?;
    if !view.waiting_for.is_empty() {
        out.line(format!("  waiting for  {}", view.waiting_for.join(", ")))?;
    }
    // By role, then in the order they joined.
    let mut members: Vec<_> = view.members.iter().collect();
    members.sort_by_key(|m| Role::ALL.iter().position(|r| *r == m.role));
    for m in members {
        let consent = match &m.consent {
            Some(c) => format!("  consent: {c}"),
            None => String::new(),
        };
        let paper = match m.on_paper {
            true => "  on paper: the case's facilitators act for them",
            false => "",
        };
        out.line(format!(
            "  {:<12} {} ({}){consent}{paper}",
            m.role, m.display_name, m.account_id
        ))?;
    }
    let counts: Vec<String> = view
        .message_counts
        .iter()
        .map(|c| format!("{} {}", c.count, c.state))
        .collect();
    out.line(format!(
        "  messages     {}",
        if counts.is_empty() {
            "none".into()
        } else {
            counts.join(", ")
        }
    ))?;
    if view.held_deliveries > 0 {
        out.line(format!(
            "  held         {} forward(s) waiting for the case to resume",
            view.held_deliveries
        ))?;
    }
    Ok(())
}

/// The facilitator a coordinator means: an account id, or a display name that exactly one
/// facilitator has.
fn find_facilitator(staff: &[StaffMember], given: &str) -> Result<AccountId> {
    let facilitators = || staff.iter().filter(|s| s.role == StaffRole::Facilitator);
    let by_id: Vec<_> = facilitators().filter(|s| s.account_id == given).collect();
    let by_name: Vec<_> = facilitators()
        .filter(|s| s.display_name.eq_ignore_ascii_case(given.trim()))
        .collect();
    let found = match (by_id.as_slice(), by_name.as_slice()) {
        ([one], _) | ([], [one]) => one,
        ([], []) => bail!(
            "no facilitator is called {given:?}; `ferry staff list --role facilitator` shows them"
        ),
        _ => bail!(
            "several facilitators are called {given:?}; give the account id from `ferry staff list`"
        ),
    };
    Ok(AccountId::try_from(found.account_id.clone())?)
}

impl StaffCmd {
    /// Runs the staff command.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let (role, accreditations, expires_days, email) = match self {
            StaffCmd::List { role } => return list_staff(env, profile, out, role),
            StaffCmd::Invite {
                role,
                accreditations,
                expires_days,
                email,
            } => (role, accreditations, expires_days, email),
        };
        if !matches!(role, Role::Coordinator | Role::Facilitator | Role::Auditor) {
            bail!(
                "staff are coordinators, facilitators or auditors; invite participants with `ferry case invite`"
            );
        }
        let account = Account::open(env, profile)?;
        invite(
            &account,
            out,
            InviteTo {
                case: None,
                role,
                accreditations,
                expires_days,
                email,
            },
        )
    }
}

/// `ferry staff list`
fn list_staff(
    env: &Env,
    profile: Option<&str>,
    out: &mut Out<'_>,
    role: Option<Role>,
) -> Result<()> {
    let account = Account::open(env, profile)?;
    let staff: Vec<StaffMember> = account.client.get("/v1/staff")?;
    let staff: Vec<StaffMember> = staff
        .into_iter()
        .filter(|s| role.is_none_or(|r| s.role.as_str() == r.as_str()))
        .collect();
    let rows = staff
        .iter()
        .map(|s| {
            vec![
                s.display_name.clone(),
                s.role.to_string(),
                s.accreditations.join(", "),
                if s.role == StaffRole::Facilitator {
                    s.open_cases.to_string()
                } else {
                    String::new()
                },
                s.account_id.clone(),
            ]
        })
        .collect();
    out.table(
        &staff,
        &["name", "role", "accreditations", "open cases", "account"],
        rows,
    )
}
