//! `auditLog` (RULES §9): the changes, newest first, a page at a time; ADMIN only.

use async_graphql::{Context, ID, Object, SimpleObject};

use super::guards::{RequiresAdmin, caller};
use super::pages::{self, PageInfo};
use super::state;
use crate::domain::{ResourceType, rfc3339};
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, AuditEvent as EventRow, EventFilter};

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Changes, newest first (RULES 9). ADMIN only.
    #[graphql(guard = "RequiresAdmin", complexity = "super::pages::weight(&first) * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        actor: Option<String>,
        target_type: Option<ResourceType>,
        target_id: Option<String>,
        #[graphql(desc = "RFC 3339: only events at or after it.")] since: Option<String>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<AuditEventConnection> {
        let caller = caller(ctx).await?;
        let state = state(ctx)?;
        let size = pages::size(first)?;
        let since = since.as_deref().map(parse_rfc3339).transpose()?;
        let actor = actor.map(|actor| caller.resolve(&actor).to_owned());
        // The arguments that make a cursor's pages: a cursor for others is refused.
        let filters = format!("{actor:?}|{target_type:?}|{target_id:?}|{since:?}");
        let before_id = match &after {
            Some(cursor) => Some(
                pages::position(cursor, "auditLog", &filters)?
                    .parse::<i64>()
                    .map_err(|_| AppError::bad_input("after is not a cursor of auditLog"))?,
            ),
            None => None,
        };
        // Events past the retention are never shown, whether or not deleted yet.
        let retained = crate::domain::now_ms() - i64::from(state.audit_retention_days) * 86_400_000;
        let filter = EventFilter {
            actor,
            target_type,
            target_id,
            since: Some(since.map_or(retained, |since| since.max(retained))),
            before_id,
        };
        let with_total = ctx.look_ahead().field("totalCount").exists();
        let limit = i64::try_from(size + 1).unwrap_or(i64::MAX);
        let (mut events, total) = audit::page(&mut *state.db.conn().await?, &filter, limit, with_total).await?;
        let has_next_page = events.len() > size;
        events.truncate(size);
        let edges: Vec<AuditEventEdge> = events
            .into_iter()
            .map(|event| AuditEventEdge {
                cursor: pages::cursor("auditLog", &filters, &event.id.to_string()),
                node: AuditEvent(event),
            })
            .collect();
        let page_info =
            PageInfo::forward(edges.first().map(|e| &e.cursor), edges.last().map(|e| &e.cursor), has_next_page);
        Ok(AuditEventConnection { edges, page_info, total_count: total.unwrap_or(0) })
    }
}

/// The time in RFC 3339 as Unix ms; BAD_USER_INPUT otherwise.
fn parse_rfc3339(text: &str) -> AppResult<i64> {
    rfc3339::parse(text).map_err(|_| AppError::bad_input("since must be RFC 3339"))
}

/// One change, as the audit log keeps it (RULES 9).
pub struct AuditEvent(EventRow);

#[Object]
impl AuditEvent {
    /// Opaque and unique; increases in commit order.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// RFC 3339, UTC, milliseconds.
    async fn at(&self) -> String {
        rfc3339::format(self.0.at)
    }

    /// The user who made the change; null for the operator commands and the server itself.
    async fn actor(&self) -> Option<&str> {
        self.0.actor.as_deref()
    }

    /// The mutation or operator command, e.g. "editUser", "user reset-password", "loginLocked".
    async fn action(&self) -> &str {
        &self.0.action
    }

    async fn target_type(&self) -> ResourceType {
        self.0.target_type
    }

    async fn target_id(&self) -> &str {
        &self.0.target_id
    }

    /// Names of the fields that changed, sorted (RULES 9); never a value.
    async fn fields(&self) -> &[String] {
        &self.0.fields
    }

    /// The id the server gave the request (its x-request-id); null for operator commands.
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
}

#[derive(SimpleObject)]
pub struct AuditEventEdge {
    pub cursor: String,
    pub node: AuditEvent,
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AuditEventConnection {
    pub edges: Vec<AuditEventEdge>,
    #[graphql(name = "pageInfo")]
    pub page_info: PageInfo,
    /// Every match, not just this page.
    pub total_count: i64,
}

#[async_graphql::ComplexObject]
impl AuditEventConnection {
    async fn nodes(&self) -> Vec<&AuditEvent> {
        self.edges.iter().map(|edge| &edge.node).collect()
    }
}
