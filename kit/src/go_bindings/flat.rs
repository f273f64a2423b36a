//! Values as flat core-wasm parameters: what an import's arguments and
//! an export's parameters become when they fit in 16 values.

use super::*;

impl Generator<'_> {
    /// Statements (in `out`, at `indent`) turning Go `value` of `ty` into
    /// flat values, whose variables are appended to `vars`; `counter`
    /// numbers the variables.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn lower_flat(
        &self,
        ty: &Type,
        value: &str,
        file: &mut GoFile,
        out: &mut String,
        indent: &str,
        vars: &mut Vec<(String, WasmType)>,
        counter: &mut usize,
    ) -> Result<()> {
        let c = self.cabi(file);
        let mut fresh = |ty: WasmType| {
            let name = format!("f{counter}");
            *counter += 1;
            vars.push((name.clone(), ty));
            name
        };
        let ty = match self.named_id(ty) {
            Some((id, _)) => Type::Id(id),
            None => self.base(ty),
        };
        match ty {
            Type::Bool => {
                let f = fresh(WasmType::I32);
                let _ = writeln!(out, "{indent}{f} := {c}.FromBool({value})");
            }
            Type::U8 | Type::S8 | Type::U16 | Type::S16 | Type::U32 | Type::S32 | Type::Char => {
                let f = fresh(WasmType::I32);
                let _ = writeln!(out, "{indent}{f} := uint32({value})");
            }
            Type::U64 | Type::S64 => {
                let f = fresh(WasmType::I64);
                let _ = writeln!(out, "{indent}{f} := uint64({value})");
            }
            Type::F32 => {
                let f = fresh(WasmType::F32);
                let _ = writeln!(out, "{indent}{f} := {value}");
            }
            Type::F64 => {
                let f = fresh(WasmType::F64);
                let _ = writeln!(out, "{indent}{f} := {value}");
            }
            Type::String => {
                let p = fresh(WasmType::I32);
                let n = fresh(WasmType::I32);
                let _ = writeln!(out, "{indent}{p}, {n} := {c}.LowerString(pins, {value})");
            }
            Type::ErrorContext => bail!("error-context is not supported"),
            Type::Id(id) => match &self.resolve.types[id].kind {
                TypeDefKind::Record(r) => {
                    for field in &r.fields {
                        let field_value = format!("{value}.{}", exported_name(&field.name));
                        self.lower_flat(&field.ty, &field_value, file, out, indent, vars, counter)?;
                    }
                }
                TypeDefKind::Tuple(t) => {
                    for (i, ty) in t.types.iter().enumerate() {
                        let field_value = format!("{value}.F{i}");
                        self.lower_flat(ty, &field_value, file, out, indent, vars, counter)?;
                    }
                }
                TypeDefKind::Enum(_) | TypeDefKind::Handle(_) | TypeDefKind::Resource => {
                    let f = fresh(WasmType::I32);
                    let _ = writeln!(out, "{indent}{f} := uint32({value})");
                }
                TypeDefKind::List(elem) => {
                    let p = fresh(WasmType::I32);
                    let n = fresh(WasmType::I32);
                    if *elem == Type::U8 {
                        let _ = writeln!(out, "{indent}{p}, {n} := {c}.LowerBytes(pins, {value})");
                    } else {
                        let lower = self.lower_fn(elem, file)?;
                        let _ = writeln!(
                            out,
                            "{indent}{p}, {n} := {c}.LowerList(pins, {value}, {}, {}, {lower})",
                            self.size(elem),
                            self.align(elem)
                        );
                    }
                }
                TypeDefKind::Option(inner) => {
                    // A flag, then the payload's values (zero for none). The
                    // payload's values are computed into fresh variables
                    // inside the branch and copied out.
                    let flag = fresh(WasmType::I32);
                    let mut outer = Vec::new();
                    for ty in self.flat(inner)? {
                        let f = format!("f{counter}");
                        *counter += 1;
                        outer.push((f.clone(), ty));
                        let _ = writeln!(out, "{indent}var {f} {}", flat_go(ty));
                    }
                    let _ = writeln!(
                        out,
                        "{indent}var {flag} uint32\n{indent}if {value} != nil {{\n{indent}\t{flag} = 1"
                    );
                    let mut inner_vars = Vec::new();
                    let inner_indent = format!("{indent}\t");
                    self.lower_flat(
                        inner,
                        &format!("(*{value})"),
                        file,
                        out,
                        &inner_indent,
                        &mut inner_vars,
                        counter,
                    )?;
                    for ((name, ty), (target, joined)) in inner_vars.iter().zip(&outer) {
                        if ty != joined {
                            bail!(
                                "an option whose payload needs widening in flat form is not supported"
                            );
                        }
                        let _ = writeln!(out, "{inner_indent}{target} = {name}");
                    }
                    let _ = writeln!(out, "{indent}}}");
                    vars.extend(outer);
                }
                other => bail!(
                    "{} types in flat parameters are not supported",
                    other.as_str()
                ),
            },
        }
        Ok(())
    }

    /// A Go expression lifting `ty` from the flat values `vals[*next..]`.
    pub(super) fn lift_flat(
        &self,
        ty: &Type,
        vals: &[String],
        next: &mut usize,
        file: &mut GoFile,
    ) -> Result<String> {
        let c = self.cabi(file);
        let mut take = || {
            let v = vals[*next].clone();
            *next += 1;
            v
        };
        if let Some((id, _)) = self.named_id(ty) {
            return self.lift_flat_definition(id, vals, next, file);
        }
        Ok(match self.base(ty) {
            Type::Bool => format!("{} != 0", take()),
            Type::U8 => format!("uint8({})", take()),
            Type::S8 => format!("int8({})", take()),
            Type::U16 => format!("uint16({})", take()),
            Type::S16 => format!("int16({})", take()),
            Type::U32 => take(),
            Type::S32 => format!("int32({})", take()),
            Type::Char => format!("rune({})", take()),
            Type::U64 => take(),
            Type::S64 => format!("int64({})", take()),
            Type::F32 | Type::F64 => take(),
            Type::String => {
                let p = take();
                let n = take();
                format!("{c}.LiftString({p}, {n})")
            }
            Type::ErrorContext => bail!("error-context is not supported"),
            Type::Id(id) => self.lift_flat_definition(id, vals, next, file)?,
        })
    }

    pub(super) fn lift_flat_definition(
        &self,
        id: TypeId,
        vals: &[String],
        next: &mut usize,
        file: &mut GoFile,
    ) -> Result<String> {
        let c = self.cabi(file);
        let go = self.go_type(&Type::Id(id), file)?;
        Ok(match &self.resolve.types[id].kind {
            TypeDefKind::Record(r) => {
                let mut fields = Vec::new();
                for field in &r.fields {
                    let value = self.lift_flat(&field.ty, vals, next, file)?;
                    fields.push(format!("{}: {value}", exported_name(&field.name)));
                }
                format!("{go}{{{}}}", fields.join(", "))
            }
            TypeDefKind::Tuple(t) => {
                let mut fields = Vec::new();
                for (i, ty) in t.types.iter().enumerate() {
                    fields.push(format!("F{i}: {}", self.lift_flat(ty, vals, next, file)?));
                }
                format!("{go}{{{}}}", fields.join(", "))
            }
            TypeDefKind::Enum(_) | TypeDefKind::Handle(_) | TypeDefKind::Resource => {
                let v = vals[*next].clone();
                *next += 1;
                format!("{go}({v})")
            }
            TypeDefKind::List(elem) => {
                let p = vals[*next].clone();
                let n = vals[*next + 1].clone();
                *next += 2;
                if *elem == Type::U8 {
                    format!("{c}.LiftBytes({p}, {n})")
                } else {
                    let lift = self.lift_fn(elem, file)?;
                    format!("{c}.LiftList({p}, {n}, {}, {lift})", self.size(elem))
                }
            }
            TypeDefKind::Type(t) => self.lift_flat(t, vals, next, file)?,
            other => bail!(
                "{} types in flat parameters of exports are not supported",
                other.as_str()
            ),
        })
    }
}
