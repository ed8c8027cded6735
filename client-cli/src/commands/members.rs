//! Who is who in a case, as its view says: what a client checks before it trusts a signature
//! it was handed (only a facilitator of the case approves or acts for anyone in it).

use ferry_crypto::Role;
use ferry_protocol::CaseView;

/// Whether `account` is a facilitator of the case.
pub(crate) fn is_facilitator(view: &CaseView, account: &str) -> bool {
    view.members
        .iter()
        .any(|m| m.role == Role::Facilitator && m.account_id == account)
}

/// Whether `account` takes part in the case on paper.
pub(crate) fn is_on_paper(view: &CaseView, account: &str) -> bool {
    view.members
        .iter()
        .any(|m| m.on_paper && m.account_id == account)
}

/// Whether `typist` may have typed up a message for `author`: a facilitator of the case, for
/// someone who takes part on paper.
pub(crate) fn may_type_up_for(view: &CaseView, typist: &str, author: &str) -> bool {
    is_facilitator(view, typist) && is_on_paper(view, author)
}
