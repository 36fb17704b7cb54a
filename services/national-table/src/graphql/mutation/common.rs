//! Helpers several aggregates' mutations share: the reference check with the region subgraph
//! and the validation of id lists.

use async_graphql::{Context, ID};
use ggzhub_kit::refs::RefChecker;
use ggzhub_kit::validate as v;
use ggzhub_kit::{ApiError, ApiResult, Caller, write};
use serde_json::json;

/// The region subgraph's reference checker from the schema's data.
pub(super) fn refs<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a RefChecker> {
    write::data::<RefChecker>(ctx)
}

/// Wakes the outbox relay after a commit that recorded events.
pub(super) fn committed(ctx: &Context<'_>) {
    if let Some(outbox) = ctx.data_opt::<ggzhub_kit::outbox::Outbox>() {
        outbox.committed();
    }
}

/// References to check with the region subgraph, answered in one round trip.
#[derive(Default)]
pub(super) struct Refs {
    pub(super) regions: Vec<String>,
    pub(super) offers: Vec<String>,
    pub(super) orgs: Vec<String>,
}

/// What the region subgraph answered.
pub(super) struct Checked {
    /// Offer id → region code.
    pub(super) offer_regions: std::collections::HashMap<String, String>,
}

impl Refs {
    /// Asks the owner; any unknown reference is `BAD_USER_INPUT` naming it.
    pub(super) async fn check(self, checker: &RefChecker, c: &Caller) -> ApiResult<Checked> {
        let mut reps = Vec::new();
        for code in &self.regions {
            reps.push(json!({ "__typename": "Region", "code": code }));
        }
        for id in &self.offers {
            reps.push(json!({ "__typename": "CareOffer", "id": id }));
        }
        for id in &self.orgs {
            reps.push(json!({ "__typename": "Organisation", "id": id }));
        }
        let answers = checker
            .resolve(
                c,
                reps,
                "... on Region { code } ... on CareOffer { id region { code } } ... on Organisation { id }",
            )
            .await?;
        let mut answers = answers.into_iter();
        for code in &self.regions {
            if answers.next().flatten().is_none() {
                return Err(ApiError::bad_input(format!("unknown region code {code}")));
            }
        }
        let mut offer_regions = std::collections::HashMap::new();
        for id in &self.offers {
            match answers.next().flatten() {
                Some(o) => {
                    offer_regions.insert(id.clone(), o["region"]["code"].as_str().unwrap_or_default().to_owned());
                }
                None => return Err(ApiError::bad_input(format!("unknown care offer {id}"))),
            }
        }
        for id in &self.orgs {
            if answers.next().flatten().is_none() {
                return Err(ApiError::bad_input(format!("unknown organisation {id}")));
            }
        }
        Ok(Checked { offer_regions })
    }
}

/// The ids of `field`, each validated, without repeats; at most `max` of them.
pub(super) fn id_list(field: &str, ids: &[ID], max: usize) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = v::id(field, id)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.len() > max {
        return Err(ApiError::bad_input(format!("{field} lists {} ids; at most {max} are allowed", out.len())));
    }
    Ok(out)
}
