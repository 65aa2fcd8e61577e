//! Reading upstream JSON leniently, one field at a time: a value of another type than the
//! one wanted reads as if it were absent, and nothing is refused but JSON that is not JSON.
//!
//! The stream path read every upstream event into a `serde_json::Value` and asked each field
//! for the type it wanted (`as_str`, `as_u64`); these readers keep exactly that meaning
//! (including "the last of duplicate keys wins" and "`null` is a present key") while
//! skipping, not building, everything they do not read. Strings are borrowed from the
//! event unless they hold escapes.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON object read key by key into `Self`, which starts as its `Default`.
pub trait Object<'de>: Default {
    /// Reads the value under `key` into `self`, or skips it (`map.next_value::<IgnoredAny>()`)
    /// when it is not a field this object reads. Called once per key, in order.
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error>;
}

/// Reads `T` from a JSON object; any other JSON value reads as `T::default()`.
pub fn object<'de, T: Object<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_any(Lenient::<Whole<T>>(PhantomData)).map(|whole| whole.0)
}

/// A JSON string, borrowed unless it has escapes; `None` for any other value (`null`
/// included), as `Value::as_str` reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text<'a>(pub Option<Cow<'a, str>>);

impl Text<'_> {
    /// The string, if the value was one.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// A JSON number that is a non-negative integer; `None` for any other value, as
/// `Value::as_u64` reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count(pub Option<u64>);

/// A JSON array of `T`; `None` for any other value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List<T>(pub Option<Vec<T>>);

impl<T> Default for List<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Lenient::<Self>(PhantomData))
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Lenient::<Self>(PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Lenient::<Self>(PhantomData))
    }
}

/// What a lenient reader makes of each kind of JSON value: the kinds it does not take read
/// as [`Take::other`], after being skipped.
trait Take<'de>: Sized {
    fn other() -> Self;

    fn string(_: Cow<'de, str>) -> Self {
        Self::other()
    }

    fn integer(_: u64) -> Self {
        Self::other()
    }

    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Self::other())
    }

    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Self::other())
    }
}

impl<'de> Take<'de> for Text<'de> {
    fn other() -> Self {
        Self(None)
    }

    fn string(s: Cow<'de, str>) -> Self {
        Self(Some(s))
    }
}

impl Take<'_> for Count {
    fn other() -> Self {
        Self(None)
    }

    fn integer(n: u64) -> Self {
        Self(Some(n))
    }
}

impl<'de, T: Deserialize<'de>> Take<'de> for List<T> {
    fn other() -> Self {
        Self(None)
    }

    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(1));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Self(Some(items)))
    }
}

/// An [`Object`] read whole.
struct Whole<T>(T);

impl<'de, T: Object<'de>> Take<'de> for Whole<T> {
    fn other() -> Self {
        Self(T::default())
    }

    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut object = T::default();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.as_str() {
                Some(key) => object.field(key, &mut map)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Self(object))
    }
}

/// The visitor behind every lenient reader: each kind of value goes to [`Take`].
struct Lenient<T>(PhantomData<T>);

impl<'de, T: Take<'de>> Visitor<'de> for Lenient<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<T, E> {
        Ok(T::other())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<T, E> {
        Ok(T::other())
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
        Ok(T::integer(n))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
        Ok(T::other())
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<T, E> {
        Ok(T::string(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        Ok(T::string(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<T, E> {
        Ok(T::string(Cow::Owned(s)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::other())
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok(T::other())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::map(map)
    }
}
