//! Validate the parsed document against the API schema (all of the spec's rules, with
//! locations in the errors).

use apollo_compiler::ast::Document;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};

use super::RequestFailure;
use crate::error::{GatewayError, GraphqlError};

pub fn validate(schema: &Valid<Schema>, document: Document) -> Result<Valid<ExecutableDocument>, RequestFailure> {
    document.to_executable_validate(schema).map_err(|with_errors| {
        let errors = with_errors
            .errors
            .iter()
            .map(|d| GraphqlError::from_compiler(d.unstable_to_json_compat(), GatewayError::ValidationFailed));
        RequestFailure::new(
            GatewayError::ValidationFailed,
            super::capped(errors, with_errors.errors.len(), GatewayError::ValidationFailed),
        )
    })
}
