//! Parse the document (syntax only), within token and recursion limits.

use apollo_compiler::ast::Document;
use apollo_compiler::parser::Parser;

use super::RequestFailure;
use crate::error::{GatewayError, GraphqlError};

#[derive(Debug, Clone, Copy)]
pub struct ParserLimits {
    pub max_tokens: usize,
    pub max_recursion: usize,
}

impl Default for ParserLimits {
    fn default() -> Self {
        Self { max_tokens: 15_000, max_recursion: 500 }
    }
}

pub fn parse(query: &str, limits: ParserLimits) -> Result<Document, RequestFailure> {
    Parser::new()
        .token_limit(limits.max_tokens)
        .recursion_limit(limits.max_recursion)
        .parse_ast(query, "operation.graphql")
        .map_err(|with_errors| {
            let errors = with_errors
                .errors
                .iter()
                .map(|d| GraphqlError::from_compiler(d.unstable_to_json_compat(), GatewayError::ParseFailed));
            RequestFailure::new(
                GatewayError::ParseFailed,
                super::capped(errors, with_errors.errors.len(), GatewayError::ParseFailed),
            )
        })
}
