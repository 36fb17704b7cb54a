//! Coerce the request's variables to the operation's declared types.

use apollo_compiler::executable::Operation;
use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};

use super::RequestFailure;
use crate::error::{GatewayError, GraphqlError};

pub fn coerce(
    schema: &Valid<Schema>,
    document: &Valid<ExecutableDocument>,
    operation: &Operation,
    values: &JsonMap,
) -> Result<Valid<JsonMap>, RequestFailure> {
    coerce_variable_values(schema, operation, values).map_err(|error| {
        let converted =
            GraphqlError::from_compiler(error.to_graphql_error(&document.sources), GatewayError::BadUserInput);
        RequestFailure::new(GatewayError::BadUserInput, vec![converted])
    })
}
