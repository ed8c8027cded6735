//! The API's routes and its OpenAPI document, generated from the handlers themselves so that
//! every endpoint is listed.

mod accounts;
mod cases;
mod deliveries;
mod enrol;
mod log;
mod messages;
mod meta;
mod page;
mod paper;
mod sent;
pub mod submit;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use ferry_protocol::Accepted;

#[derive(OpenApi)]
#[openapi(
    info(title = "Ferry API", description = "A secure relay for shuttle communication. Every \
        action is a signed statement; content travels only as age ciphertext."),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api_router().split_for_parts().1;
    list_unauthorized(&mut doc);
    doc
}

/// Lists 401 on every operation that needs a bearer token (each answers it to a request
/// without a live session), so that the path annotations need not all repeat it.
fn list_unauthorized(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
    let unauthorized = ResponseBuilder::new()
        .description("No live session for the bearer token: missing, unknown or expired")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            if op.security.as_ref().is_some_and(|s| s.contains(&bearer)) {
                op.responses
                    .responses
                    .entry("401".into())
                    .or_insert_with(|| unauthorized.clone().into());
            }
        }
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(meta::health))
        .routes(routes!(meta::server_info))
        .routes(routes!(meta::openapi_json))
        .routes(routes!(enrol::enrol))
        .routes(routes!(crate::auth::challenge))
        .routes(routes!(crate::auth::login))
        .routes(routes!(accounts::me))
        .routes(routes!(accounts::set_notifications))
        .routes(routes!(accounts::outbox))
        .routes(routes!(accounts::staff))
        .routes(routes!(accounts::key_card))
        .routes(routes!(accounts::facilitator_cards))
        .routes(routes!(cases::list_cases, cases::open_case))
        .routes(routes!(cases::show_case))
        .routes(routes!(cases::allocate))
        .routes(routes!(cases::invite_to_case))
        .routes(routes!(cases::invite_staff))
        .routes(routes!(cases::risk_assessment))
        .routes(routes!(cases::change_state))
        .routes(routes!(cases::consent))
        .routes(routes!(cases::withdraw))
        .routes(routes!(cases::hold))
        .routes(routes!(cases::verify_key))
        .routes(routes!(paper::add_member))
        .routes(routes!(paper::consent, paper::forms))
        .routes(routes!(paper::enter))
        .routes(routes!(paper::print))
        .routes(routes!(paper::letters))
        .routes(routes!(paper::check_letter))
        .routes(routes!(submit::submit, messages::listing::list_messages))
        .routes(routes!(messages::listing::get_message))
        .routes(routes!(
            messages::attachments::upload_attachment,
            messages::attachments::download_attachment
        ))
        .routes(routes!(messages::listing::review_queue))
        .routes(routes!(sent::sent))
        .routes(routes!(messages::delivery::forward))
        .routes(routes!(messages::delivery::return_to_author))
        .routes(routes!(messages::decisions::withhold))
        .routes(routes!(messages::decisions::escalate))
        .routes(routes!(log::latest))
        .routes(routes!(log::inclusion))
        .routes(routes!(log::consistency))
        .routes(routes!(log::event))
        .routes(routes!(log::audit_bundle))
        .routes(routes!(log::leaves))
        .routes(routes!(log::states))
        .routes(routes!(deliveries::inbox))
        .routes(routes!(deliveries::get_delivery))
        .routes(routes!(deliveries::receipt))
        .routes(routes!(
            deliveries::upload_attachment,
            deliveries::download_attachment
        ))
}

/// The whole HTTP app.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let (router, _) = api_router().split_for_parts();
    router
        .merge(page::routes())
        .fallback(|| async { ApiError::not_found("endpoint") })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(page::security_headers))
        .with_state(state)
}

/// Appends the accepted statement to the trail inside the caller's transaction and says what
/// was created or changed (for work run by the group committer).
pub(crate) async fn record_in(
    tx: &mut Tx<'_>,
    case_id: &str,
    statement: &ferry_crypto::SignedStatement,
    now: i64,
    id: Option<String>,
    state: Option<String>,
) -> ApiResult<Accepted> {
    let event = crate::log_store::append(tx, Some(case_id), statement, now).await?;
    Ok(Accepted {
        event,
        case_state: None,
        id,
        state,
        mailed: false,
    })
}

/// Appends the accepted statement to the trail, commits, and answers with the event index
/// and what was created or changed.
pub(crate) async fn record(
    mut tx: Tx<'static>,
    case_id: &str,
    statement: &ferry_crypto::SignedStatement,
    now: i64,
    id: Option<String>,
    state: Option<String>,
) -> ApiResult<axum::Json<Accepted>> {
    let accepted = record_in(&mut tx, case_id, statement, now, id, state).await?;
    tx.commit().await?;
    Ok(axum::Json(accepted))
}
