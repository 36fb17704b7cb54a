//! Pick the operation to run.

use apollo_compiler::executable::Operation;
use apollo_compiler::{ExecutableDocument, Node};

use super::RequestFailure;
use crate::error::GatewayError;

pub fn pick<'d>(document: &'d ExecutableDocument, name: Option<&str>) -> Result<&'d Node<Operation>, RequestFailure> {
    document.operations.get(name).map_err(|_| {
        let message = match name {
            Some(name) => format!("Unknown operation named \"{name}\"."),
            None => "Must provide operation name if query contains multiple operations.".to_owned(),
        };
        RequestFailure::refuse(GatewayError::OperationNotFound, message)
    })
}
