//! The glue between a transform's logic and the SDK: a transform
//! implements [`KafkaTransform`] (its Kafka class, documentation, keys,
//! `configure` and per-record `apply`), and [`Smt`] makes it a
//! `wasmconnect_sdk::Transform` for one class, the `$Key` or `$Value`
//! variant chosen by a [`Variant`] marker. A class crate is one line:
//! `kafka_transforms::export_class!(InsertField, ValueVariant);`.

use std::marker::PhantomData;

use wasmconnect_sdk::{
    Config, ConfigKey, ConfigValue, Outcome, Plugin, PluginKind, PluginMetadata, TaskError,
    Transform, TransformRecord, fatal,
};

use crate::config::{self, Def, Settings};

/// Which part of the record a variant transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Key,
    Value,
}

/// One of Kafka's Single Message Transforms.
pub trait KafkaTransform: Sized {
    /// The class name without a variant suffix, e.g.
    /// `org.apache.kafka.connect.transforms.InsertField`.
    const CLASS: &'static str;
    /// The class's `OVERVIEW_DOC`, in one sentence.
    const DOC: &'static str;
    /// The keys of the class's `CONFIG_DEF`.
    fn definition() -> Vec<Def>;
    /// `configure`: builds the transform from parsed settings; `Err` is
    /// the ConfigException's message.
    fn configure(side: Side, settings: &Settings) -> Result<Self, String>;
    /// `apply`: the new record, `None` to drop it, `Err` the exception's message.
    fn apply(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String>;
}

/// Chooses the class: `$Key`, `$Value`, or none for transforms without variants.
pub trait Variant {
    const SIDE: Side;
    const SUFFIX: &'static str;
}

/// The `$Key` variant.
pub struct KeyVariant;
/// The `$Value` variant.
pub struct ValueVariant;
/// A transform without variants (it reads the value where it reads anything).
pub struct NoVariant;

impl Variant for KeyVariant {
    const SIDE: Side = Side::Key;
    const SUFFIX: &'static str = "$Key";
}
impl Variant for ValueVariant {
    const SIDE: Side = Side::Value;
    const SUFFIX: &'static str = "$Value";
}
impl Variant for NoVariant {
    const SIDE: Side = Side::Value;
    const SUFFIX: &'static str = "";
}

/// A transform class as an SDK plugin.
pub struct Smt<T, V> {
    inner: T,
    variant: PhantomData<V>,
}

impl<T: KafkaTransform, V: Variant> Smt<T, V> {
    /// The full class name.
    pub fn class_name() -> String {
        format!("{}{}", T::CLASS, V::SUFFIX)
    }

    /// Configures from a raw map (what the host's `configure` passes).
    pub fn from_config(config: &[(String, String)]) -> Result<Self, String> {
        let settings = config::parse(&T::definition(), config)?;
        Ok(Smt {
            inner: T::configure(V::SIDE, &settings)?,
            variant: PhantomData,
        })
    }

    /// Applies to one record.
    pub fn apply_one(&self, record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        self.inner.apply(record)
    }
}

impl<T: KafkaTransform, V: Variant> Plugin for Smt<T, V> {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: Self::class_name(),
            aliases: Vec::new(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            kind: PluginKind::Transform,
            description: T::DOC.to_string(),
            task_class: None,
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        config::to_config_keys(&T::definition())
    }

    fn validate(config: &[(String, String)]) -> Vec<ConfigValue> {
        config::validate(&T::definition(), config)
    }
}

impl<T: KafkaTransform, V: Variant> Transform for Smt<T, V> {
    fn configure(config: Config) -> Result<Self, TaskError> {
        Self::from_config(&config).map_err(fatal)
    }

    fn apply(&mut self, records: Vec<TransformRecord>) -> Result<Vec<Outcome>, TaskError> {
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            out.push(match self.inner.apply(record).map_err(fatal)? {
                Some(r) => Outcome::Replace(r),
                None => Outcome::Drop,
            });
        }
        Ok(out)
    }
}

/// Exports one class: `export_class!(InsertField, ValueVariant)`. The
/// calling crate depends on `wasmconnect-sdk` (feature `transform`) too,
/// since the generated export code names it.
#[macro_export]
macro_rules! export_class {
    ($transform:ident, $variant:ident) => {
        ::wasmconnect_sdk::export_transform!(
            $crate::Smt<$crate::$transform, $crate::$variant>
        );
    };
}
