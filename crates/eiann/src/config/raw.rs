//! The raw layer: serde types that mirror an EIANN config as written, before any of it is checked.
//!
//! The text is parsed into a [`Value`] first (syntax errors and duplicate keys come out of the YAML
//! parser with their line and column, as they always have), then deserialised into [`RawConfig`]
//! through `serde_path_to_error`, so a value of the wrong type is reported at its YAML key path
//! (`layer_config.H2.E.size: expected a whole number, got a string`). Mappings keep the file's order
//! ([`Map`], an `IndexMap`). Keys no EIANN object takes are refused here, with the keys it does take.
//!
//! The leaf types ([`Num`], [`Whole`], [`Name`], [`Flag`], [`Key`]) only check a value's YAML type;
//! what the value means (a size of at least 1, a known activation) is the checking step's business
//! (`config.rs`). Keyword arguments whose keys depend on another value (constraint and rule kwargs)
//! stay open maps of [`Value`]s, read later through the same leaf types.

use std::convert::Infallible;
use std::fmt;

use indexmap::IndexMap;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;
use serde_yaml_ng::{Number, Value};

use crate::error::{Error, Result};

/// Parse `text` into the raw config; errors name `file` and the YAML path.
pub(super) fn parse(text: &str, file: &str) -> Result<RawConfig> {
    let root: Value = serde_yaml_ng::from_str(text).map_err(|e| Error::Config {
        file: file.to_string(),
        path: e
            .location()
            .map(|l| format!("line {} column {}", l.line(), l.column()))
            .unwrap_or_else(|| "(document)".into()),
        message: format!("not valid YAML: {e}"),
    })?;
    serde_path_to_error::deserialize(root).map_err(|e| Error::Config {
        file: file.to_string(),
        path: yaml_path(e.path()),
        message: e.into_inner().to_string(),
    })
}

/// `a.b[0].c`, or `(top level)`. A key that is not a name ends the path as an unknown segment: the
/// error is then the mapping's, so the path stops at the mapping.
fn yaml_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut segments: Vec<&Segment> = path.iter().collect();
    if matches!(segments.last(), Some(Segment::Unknown)) {
        segments.pop();
    }
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    if out.is_empty() {
        "(top level)".into()
    } else {
        out
    }
}

/// Read one value of an open kwargs map as `T` (e.g. `Option<Num>`); the error is the bare message.
pub(super) fn read<T: de::DeserializeOwned>(v: &Value) -> std::result::Result<T, String> {
    T::deserialize(v).map_err(|e| e.to_string())
}

/// What arrived where a value was expected: enough to say what it was.
enum Got {
    Null,
    Bool(bool),
    Int(u64),
    Neg(i64),
    Float(f64),
    Str(String),
    List,
    Mapping,
    /// A value with a YAML tag (`!tag`), e.g. `!foo 3`.
    Tagged(String),
}

impl Got {
    /// In the words of the messages: "got a string".
    fn kind(&self) -> &'static str {
        match self {
            Got::Null => "null",
            Got::Bool(_) => "a boolean",
            Got::Int(_) | Got::Neg(_) | Got::Float(_) => "a number",
            Got::Str(_) => "a string",
            Got::List => "a list",
            Got::Mapping => "a mapping",
            Got::Tagged(_) => "a tagged value",
        }
    }
}

/// Read any value as a [`Got`], without reading into lists and mappings.
struct GotVisitor;

impl<'de> Visitor<'de> for GotVisitor {
    type Value = Got;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E>(self) -> std::result::Result<Got, E> {
        Ok(Got::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Got, E> {
        Ok(Got::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Got, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Got, E> {
        Ok(Got::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Got, E> {
        Ok(Got::Int(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Got, E> {
        Ok(u64::try_from(v).map_or(Got::Neg(v), Got::Int))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Got, E> {
        Ok(Got::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Got, E> {
        Ok(Got::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Got, E> {
        Ok(Got::Str(v))
    }
    // Lists and mappings are read through (and dropped): a deserialiser may insist on it.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Got, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Got::List)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Got, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Got::Mapping)
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> std::result::Result<Got, A::Error> {
        let (tag, _): (String, _) = data.variant()?;
        Ok(Got::Tagged(tag))
    }
}

fn got<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Got, D::Error> {
    d.deserialize_any(GotVisitor)
}

/// How a YAML number prints (`1.5`, `.inf`), as the messages quote it.
fn number_text(v: f64) -> String {
    Number::from(v).to_string()
}

/// A finite number (a YAML int or float).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Num(pub f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match got(d)? {
            Got::Int(u) => Ok(Num(u as f64)),
            Got::Neg(i) => Ok(Num(i as f64)),
            Got::Float(x) if x.is_finite() => Ok(Num(x)),
            Got::Float(x) => Err(de::Error::custom(format!(
                "expected a finite number, got {}",
                number_text(x)
            ))),
            other => Err(de::Error::custom(format!(
                "expected a number, got {}",
                other.kind()
            ))),
        }
    }
}

/// A whole number that is not negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Whole(pub usize);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match got(d)? {
            Got::Int(u) => usize::try_from(u)
                .map(Whole)
                .map_err(|_| de::Error::custom(format!("{u} is too large"))),
            Got::Neg(i) => Err(de::Error::custom(format!("must not be negative, got {i}"))),
            Got::Float(x) => Err(de::Error::custom(format!(
                "expected a whole number, got {}",
                number_text(x)
            ))),
            other => Err(de::Error::custom(format!(
                "expected a whole number, got {}",
                other.kind()
            ))),
        }
    }
}

/// A name (a YAML string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name(pub String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match got(d)? {
            Got::Str(s) => Ok(Name(s)),
            other => Err(de::Error::custom(format!(
                "expected a name (string), got {}",
                other.kind()
            ))),
        }
    }
}

/// `true` or `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match got(d)? {
            Got::Bool(b) => Ok(Flag(b)),
            other => Err(de::Error::custom(format!(
                "expected true or false, got {}",
                other.kind()
            ))),
        }
    }
}

/// A mapping key: a name, or a number read as its text (`1` → `"1"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key(pub String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match got(d)? {
            Got::Str(s) => Ok(Key(s)),
            Got::Int(u) => Ok(Key(u.to_string())),
            Got::Neg(i) => Ok(Key(i.to_string())),
            Got::Float(x) => Ok(Key(number_text(x))),
            other => Err(de::Error::custom(format!(
                "keys must be names, got {}",
                other.kind()
            ))),
        }
    }
}

/// The error for a value that is not a `what` (a mapping, a list), or that carries a YAML tag.
fn not_a<E: de::Error>(what: &str, got: Got) -> E {
    match got {
        Got::Tagged(tag) => E::custom(format!("unsupported YAML tag !{tag}")),
        other => E::custom(format!("expected {what}, got {}", other.kind())),
    }
}

/// Visitor methods that refuse every value but the one the visitor is for, with [`not_a`].
macro_rules! refuse_the_rest {
    ($what:literal, except map) => {
        refuse_the_rest!(@scalars $what);
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> std::result::Result<Self::Value, A::Error> {
            Err(not_a($what, Got::List))
        }
    };
    ($what:literal, except seq) => {
        refuse_the_rest!(@scalars $what);
        fn visit_map<A: MapAccess<'de>>(self, _: A) -> std::result::Result<Self::Value, A::Error> {
            Err(not_a($what, Got::Mapping))
        }
    };
    (@scalars $what:literal) => {
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str($what)
        }
        fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
            Err(not_a($what, Got::Null))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Self::Value, E> {
            Err(not_a($what, Got::Bool(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
            Err(not_a($what, Got::Int(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Self::Value, E> {
            Err(not_a($what, Got::Neg(v)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Self::Value, E> {
            Err(not_a($what, Got::Float(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
            Err(not_a($what, Got::Str(v.to_string())))
        }
        fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> std::result::Result<Self::Value, A::Error> {
            let (tag, _): (String, _) = data.variant()?;
            Err(not_a($what, Got::Tagged(tag)))
        }
    };
}

/// A mapping from names to `T`, in the file's order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Map<T>(pub IndexMap<String, T>);

impl<T> Default for Map<T> {
    fn default() -> Self {
        Map(IndexMap::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Map<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Map<T>;
            refuse_the_rest!("a mapping", except map);
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Map<T>, A::Error> {
                let mut out = IndexMap::new();
                while let Some(Key(k)) = map.next_key()? {
                    if out.contains_key(&k) {
                        // `1` and `"1"` are different YAML keys but the same name.
                        match map.next_value_seed(Refuse(format!("key \"{k}\" is given twice")))? {}
                    }
                    let v = map.next_value()?;
                    out.insert(k, v);
                }
                Ok(Map(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A list (or `!!python/tuple`) of `T`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Seq<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Seq<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Seq<T>;
            refuse_the_rest!("a list or tuple", except seq);
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Seq<T>, A::Error> {
                // No capacity from the size hint: configs hold short tuples.
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Seq(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A seed that refuses the value it is given (so the error's path ends in that value's key).
struct Refuse(String);

impl<'de> DeserializeSeed<'de> for Refuse {
    type Value = Infallible;
    fn deserialize<D: Deserializer<'de>>(self, _: D) -> std::result::Result<Infallible, D::Error> {
        Err(de::Error::custom(self.0))
    }
}

/// The message for a key no EIANN object of this kind takes.
pub(super) fn unknown_key(key: &str, known: &[&str], none_hint: &str) -> String {
    let hint = if known.is_empty() {
        none_hint.to_string()
    } else {
        format!("expected one of: {}", known.join(", "))
    };
    format!("unknown key \"{key}\" ({hint})")
}

/// A mapping with a fixed set of keys, each optional (`None` when absent). Keys outside the set are
/// refused at their path with the list of known ones; `KEYS` lists them in declaration order.
macro_rules! raw_struct {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub(crate) struct $name {
            $($(#[$fm])* pub $field: Option<$ty>,)*
        }

        impl $name {
            /// The keys this mapping takes.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    refuse_the_rest!("a mapping", except map);
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<$name, A::Error> {
                        let mut out = $name::default();
                        while let Some(Key(k)) = map.next_key()? {
                            match k.as_str() {
                                $(stringify!($field) => {
                                    if out.$field.is_some() {
                                        match map.next_value_seed(Refuse(format!("key \"{k}\" is given twice")))? {}
                                    }
                                    out.$field = Some(map.next_value()?);
                                })*
                                _ => match map.next_value_seed(Refuse(unknown_key(&k, $name::KEYS, "")))? {},
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

raw_struct! {
    /// The whole file: EIANN's `build_EIANN_from_config` arguments.
    RawConfig {
        /// layer → population → population settings.
        layer_config: Map<Map<RawPopulation>>,
        /// post layer → post population → pre layer → pre population → projection settings (or null).
        projection_config: Map<Map<Map<Map<Option<RawProjection>>>>>,
        /// Keyword arguments of `Network.__init__` (null for none).
        training_kwargs: Option<RawTraining>,
    }
}

raw_struct! {
    /// `training_kwargs`. `optimizer_kwargs`, `criterion_kwargs`, `seed` and `verbose` are accepted
    /// and have no effect.
    RawTraining {
        tau: Option<Num>,
        forward_steps: Option<Whole>,
        backward_steps: Option<Whole>,
        learning_rate: Option<Num>,
        optimizer: Option<Name>,
        optimizer_kwargs: Value,
        criterion: Option<Name>,
        criterion_kwargs: Value,
        seed: Value,
        verbose: Value,
    }
}

raw_struct! {
    /// One population's settings (EIANN class `Population`'s keyword arguments).
    RawPopulation {
        /// Required; null is a value of the wrong type, not a missing key.
        size: Whole,
        activation: Option<Name>,
        activation_kwargs: Option<Map<Value>>,
        tau: Option<Num>,
        include_bias: Option<Flag>,
        bias_init: Value,
        bias_init_args: Value,
        bias_bounds: Value,
        bias_learning_rule: Option<Name>,
        bias_learning_rule_kwargs: Value,
        output_pop: Option<Flag>,
    }
}

raw_struct! {
    /// One projection's settings (EIANN class `Projection`'s keyword arguments).
    RawProjection {
        weight_init: Option<Name>,
        weight_init_args: Option<Seq<Num>>,
        /// `(lower, upper)`, null for an open side.
        weight_bounds: Option<Seq<Option<Num>>>,
        weight_constraint: Option<Name>,
        /// Open: which keys are allowed depends on `weight_constraint`.
        weight_constraint_kwargs: Option<Map<Value>>,
        direction: Option<Name>,
        update_phase: Option<Name>,
        compartment: Option<Name>,
        /// Absent (EIANN's default, `Backprop`), null (no learning) or a rule class.
        learning_rule: Option<Name>,
        /// Open: each rule reads its own (`crate::rules`, through `RuleKwargs`).
        learning_rule_kwargs: Option<Map<Value>>,
    }
}
