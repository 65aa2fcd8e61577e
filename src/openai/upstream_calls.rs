//! The `tool_calls` vLLM writes itself when it runs its own tool parser (profiles with
//! `tool_format = "vllm"`): streamed as deltas ([`CallDelta`]: the first of a call has its
//! `id` and `function.name`, the rest only `function.arguments` pieces, by `index`) or whole
//! in the message ([`WholeCall`]).

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess};

use super::loose::{Count, Object, Text, object};

/// One streamed piece of one call.
#[derive(Debug, Default)]
pub struct CallDelta<'a> {
    /// Which call of the choice (vLLM counts from 0).
    pub index: Count,
    /// Set on a call's first piece.
    pub id: Text<'a>,
    pub function: FunctionDelta<'a>,
}

/// The `function` of a [`CallDelta`].
#[derive(Debug, Default)]
pub struct FunctionDelta<'a> {
    pub name: Text<'a>,
    pub arguments: Text<'a>,
}

/// One call of a whole answer.
#[derive(Debug, Deserialize)]
pub struct WholeCall<'a> {
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub function: WholeFunction<'a>,
}

/// The `function` of a [`WholeCall`].
#[derive(Debug, Deserialize)]
pub struct WholeFunction<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// A JSON text (vLLM's parsers write one; a missing one reads as `{}`).
    #[serde(borrow, default)]
    pub arguments: Option<Cow<'a, str>>,
}

impl<'de> Object<'de> for CallDelta<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "index" => self.index = map.next_value()?,
            "id" => self.id = map.next_value()?,
            "function" => self.function = map.next_value()?,
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de> Object<'de> for FunctionDelta<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "name" => self.name = map.next_value()?,
            "arguments" => self.arguments = map.next_value()?,
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for CallDelta<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        object(deserializer)
    }
}

impl<'de> Deserialize<'de> for FunctionDelta<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        object(deserializer)
    }
}

impl CallDelta<'_> {
    /// The call's index; 0 when it has none that fits.
    pub fn index(&self) -> usize {
        self.index.0.and_then(|i| usize::try_from(i).ok()).unwrap_or(0)
    }
}
