//! Building HTTP responses: OpenAI-shaped errors and JSON bodies.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use crate::openai::ApiError;

pub(crate) fn json_response(status: u16, body: &Value) -> Response {
    bytes_response(status, body.to_string().into_bytes())
}

/// A JSON body already serialised.
pub(crate) fn bytes_response(status: u16, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub(crate) fn error_response(error: &ApiError) -> Response {
    let mut response = json_response(error.status, &error.body());
    if error.status == 413 || error.status == 408 {
        // The rest of the body was never read: the connection cannot carry another
        // request, and a client that tried would get a reset instead of an answer.
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
