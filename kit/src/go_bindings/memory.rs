//! Values in linear memory: Go expressions reading them and statements
//! writing them, at the offsets wit-parser's `SizeAlign` computes.

use super::*;

impl Generator<'_> {
    /// A Go expression reading a value of `ty` at address `addr`.
    pub(super) fn lift(
        &self,
        ty: &Type,
        addr: &str,
        file: &mut GoFile,
        depth: usize,
    ) -> Result<String> {
        let c = self.cabi(file);
        if let Some((id, name)) = self.named_id(ty) {
            let go = self.named(id, file, &name)?;
            let func = match go.rsplit_once('.') {
                Some((package, name)) => format!("{package}.Lift{name}"),
                None => format!("Lift{go}"),
            };
            return Ok(format!("{func}({addr})"));
        }
        Ok(match self.base(ty) {
            Type::Bool => format!("{c}.Load8({addr}) != 0"),
            Type::U8 => format!("{c}.Load8({addr})"),
            Type::S8 => format!("int8({c}.Load8({addr}))"),
            Type::U16 => format!("{c}.Load16({addr})"),
            Type::S16 => format!("int16({c}.Load16({addr}))"),
            Type::U32 => format!("{c}.Load32({addr})"),
            Type::S32 => format!("int32({c}.Load32({addr}))"),
            Type::Char => format!("rune({c}.Load32({addr}))"),
            Type::U64 => format!("{c}.Load64({addr})"),
            Type::S64 => format!("int64({c}.Load64({addr}))"),
            Type::F32 => format!("{c}.LoadF32({addr})"),
            Type::F64 => format!("{c}.LoadF64({addr})"),
            Type::String => format!(
                "{c}.LiftString({c}.Load32({addr}), {c}.Load32({}))",
                offset(addr, 4)
            ),
            Type::ErrorContext => bail!("error-context is not supported"),
            Type::Id(id) => self.lift_definition(id, addr, file, depth)?,
        })
    }

    /// Reads the structure of type definition `id` (named or not).
    pub(super) fn lift_definition(
        &self,
        id: TypeId,
        addr: &str,
        file: &mut GoFile,
        depth: usize,
    ) -> Result<String> {
        let c = self.cabi(file);
        let go = self.go_type(&Type::Id(id), file)?;
        Ok(match &self.resolve.types[id].kind {
            TypeDefKind::Record(r) => {
                let offsets = self.sizes.field_offsets(r.fields.iter().map(|f| &f.ty));
                let mut fields = Vec::new();
                for (field, (off, ty)) in r.fields.iter().zip(offsets) {
                    let value = self.lift(ty, &offset(addr, off.size_wasm32()), file, depth + 1)?;
                    fields.push(format!("{}: {value}", exported_name(&field.name)));
                }
                format!("{go}{{{}}}", fields.join(", "))
            }
            TypeDefKind::Tuple(t) => {
                let offsets = self.sizes.field_offsets(t.types.iter());
                let mut fields = Vec::new();
                for (i, (off, ty)) in offsets.into_iter().enumerate() {
                    let value = self.lift(ty, &offset(addr, off.size_wasm32()), file, depth + 1)?;
                    fields.push(format!("F{i}: {value}"));
                }
                format!("{go}{{{}}}", fields.join(", "))
            }
            TypeDefKind::Enum(e) => {
                format!("{go}({c}.Load{}({addr}))", int_bits(e.tag()))
            }
            TypeDefKind::Handle(_) | TypeDefKind::Resource => {
                format!("{go}({c}.Load32({addr}))")
            }
            TypeDefKind::List(Type::U8) => {
                format!(
                    "{c}.LiftBytes({c}.Load32({addr}), {c}.Load32({}))",
                    offset(addr, 4)
                )
            }
            TypeDefKind::List(elem) => {
                let lift = self.lift_fn(elem, file)?;
                format!(
                    "{c}.LiftList({c}.Load32({addr}), {c}.Load32({}), {}, {lift})",
                    offset(addr, 4),
                    self.size(elem)
                )
            }
            TypeDefKind::Option(inner) => {
                let off = self
                    .sizes
                    .payload_offset(Int::U8, [Some(inner)])
                    .size_wasm32();
                let lift = self.lift_fn(inner, file)?;
                format!("{c}.LiftOption({addr}, {off}, {lift})")
            }
            TypeDefKind::Result(r) => {
                let off = self
                    .sizes
                    .payload_offset(Int::U8, [r.ok.as_ref(), r.err.as_ref()])
                    .size_wasm32();
                let mut arms = Vec::new();
                for ty in [&r.ok, &r.err] {
                    arms.push(match ty {
                        Some(t) => self.lift_fn(t, file)?,
                        None => format!("{c}.LiftUnit"),
                    });
                }
                format!("{c}.LiftResult({addr}, {off}, {}, {})", arms[0], arms[1])
            }
            TypeDefKind::Variant(v) => {
                let tag = v.tag();
                let off = self
                    .sizes
                    .payload_offset(tag, v.cases.iter().map(|c| c.ty.as_ref()))
                    .size_wasm32();
                // Only Lift<Name> reads a variant (variants always have a
                // name): as statements, the last of which returns.
                let mut body = format!(
                    "v := {go}{{Tag: {c}.Load{}({addr})}}\n\tswitch v.Tag {{\n",
                    int_bits(tag)
                );
                for (i, case) in v.cases.iter().enumerate() {
                    if let Some(ty) = &case.ty {
                        let value = self.lift(ty, &offset(addr, off), file, depth + 1)?;
                        let _ = write!(
                            body,
                            "\tcase {i}:\n\t\tv.{} = {value}\n",
                            exported_name(&case.name)
                        );
                    }
                }
                body.push_str("\t}\n\treturn v");
                body
            }
            TypeDefKind::Type(t) => self.lift(t, addr, file, depth)?,
            other => bail!("{} types are not supported", other.as_str()),
        })
    }

    /// Statements writing `value` of `ty` at address `addr`; `pins` keeps
    /// what the value points to alive.
    pub(super) fn lower(
        &self,
        ty: &Type,
        value: &str,
        addr: &str,
        file: &mut GoFile,
        depth: usize,
        out: &mut String,
    ) -> Result<()> {
        let c = self.cabi(file);
        let indent = "\t".repeat(depth + 1);
        if let Some((id, name)) = self.named_id(ty) {
            let go = self.named(id, file, &name)?;
            let func = match go.rsplit_once('.') {
                Some((package, name)) => format!("{package}.Lower{name}"),
                None => format!("Lower{go}"),
            };
            let _ = writeln!(out, "{indent}{func}(pins, {addr}, {value})");
            return Ok(());
        }
        match self.base(ty) {
            Type::Bool => {
                let _ = writeln!(out, "{indent}{c}.StoreBool({addr}, {value})");
            }
            Type::U8 | Type::S8 => {
                let _ = writeln!(out, "{indent}{c}.Store8({addr}, uint8({value}))");
            }
            Type::U16 | Type::S16 => {
                let _ = writeln!(out, "{indent}{c}.Store16({addr}, uint16({value}))");
            }
            Type::U32 | Type::S32 | Type::Char => {
                let _ = writeln!(out, "{indent}{c}.Store32({addr}, uint32({value}))");
            }
            Type::U64 | Type::S64 => {
                let _ = writeln!(out, "{indent}{c}.Store64({addr}, uint64({value}))");
            }
            Type::F32 => {
                let _ = writeln!(out, "{indent}{c}.StoreF32({addr}, {value})");
            }
            Type::F64 => {
                let _ = writeln!(out, "{indent}{c}.StoreF64({addr}, {value})");
            }
            Type::String => {
                let _ = writeln!(out, "{indent}{c}.StoreString(pins, {addr}, {value})");
            }
            Type::ErrorContext => bail!("error-context is not supported"),
            Type::Id(id) => self.lower_definition(id, value, addr, file, depth, out)?,
        }
        Ok(())
    }

    pub(super) fn lower_definition(
        &self,
        id: TypeId,
        value: &str,
        addr: &str,
        file: &mut GoFile,
        depth: usize,
        out: &mut String,
    ) -> Result<()> {
        let c = self.cabi(file);
        let indent = "\t".repeat(depth + 1);
        match &self.resolve.types[id].kind {
            TypeDefKind::Record(r) => {
                let offsets = self.sizes.field_offsets(r.fields.iter().map(|f| &f.ty));
                for (field, (off, ty)) in r.fields.iter().zip(offsets) {
                    let field_value = format!("{value}.{}", exported_name(&field.name));
                    self.lower(
                        ty,
                        &field_value,
                        &offset(addr, off.size_wasm32()),
                        file,
                        depth,
                        out,
                    )?;
                }
            }
            TypeDefKind::Tuple(t) => {
                let offsets = self.sizes.field_offsets(t.types.iter());
                for (i, (off, ty)) in offsets.into_iter().enumerate() {
                    self.lower(
                        ty,
                        &format!("{value}.F{i}"),
                        &offset(addr, off.size_wasm32()),
                        file,
                        depth,
                        out,
                    )?;
                }
            }
            TypeDefKind::Enum(e) => {
                let bits = int_bits(e.tag());
                let _ = writeln!(out, "{indent}{c}.Store{bits}({addr}, uint{bits}({value}))");
            }
            TypeDefKind::Handle(_) | TypeDefKind::Resource => {
                let _ = writeln!(out, "{indent}{c}.Store32({addr}, uint32({value}))");
            }
            TypeDefKind::List(Type::U8) => {
                let _ = writeln!(out, "{indent}{c}.StoreBytes(pins, {addr}, {value})");
            }
            TypeDefKind::List(elem) => {
                let lower = self.lower_fn(elem, file)?;
                let _ = writeln!(
                    out,
                    "{indent}{c}.StoreList(pins, {addr}, {value}, {}, {}, {lower})",
                    self.size(elem),
                    self.align(elem)
                );
            }
            TypeDefKind::Option(inner) => {
                let off = self
                    .sizes
                    .payload_offset(Int::U8, [Some(inner)])
                    .size_wasm32();
                let _ = writeln!(
                    out,
                    "{indent}if {value} == nil {{\n{indent}\t{c}.Store8({addr}, 0)\n{indent}}} else {{\n{indent}\t{c}.Store8({addr}, 1)"
                );
                self.lower(
                    inner,
                    &format!("*{value}"),
                    &offset(addr, off),
                    file,
                    depth + 1,
                    out,
                )?;
                let _ = writeln!(out, "{indent}}}");
            }
            TypeDefKind::Result(r) => {
                let off = self
                    .sizes
                    .payload_offset(Int::U8, [r.ok.as_ref(), r.err.as_ref()])
                    .size_wasm32();
                let _ = writeln!(
                    out,
                    "{indent}if {value}.IsErr {{\n{indent}\t{c}.Store8({addr}, 1)"
                );
                if let Some(t) = &r.err {
                    self.lower(
                        t,
                        &format!("{value}.Err"),
                        &offset(addr, off),
                        file,
                        depth + 1,
                        out,
                    )?;
                }
                let _ = writeln!(out, "{indent}}} else {{\n{indent}\t{c}.Store8({addr}, 0)");
                if let Some(t) = &r.ok {
                    self.lower(
                        t,
                        &format!("{value}.Ok"),
                        &offset(addr, off),
                        file,
                        depth + 1,
                        out,
                    )?;
                }
                let _ = writeln!(out, "{indent}}}");
            }
            TypeDefKind::Variant(variant) => {
                let tag = variant.tag();
                let bits = int_bits(tag);
                let off = self
                    .sizes
                    .payload_offset(tag, variant.cases.iter().map(|c| c.ty.as_ref()))
                    .size_wasm32();
                let _ = writeln!(out, "{indent}{c}.Store{bits}({addr}, {value}.Tag)");
                if variant.cases.iter().any(|case| case.ty.is_some()) {
                    let _ = writeln!(out, "{indent}switch {value}.Tag {{");
                    for (i, case) in variant.cases.iter().enumerate() {
                        if let Some(ty) = &case.ty {
                            let _ = writeln!(out, "{indent}case {i}:");
                            let field = format!("{value}.{}", exported_name(&case.name));
                            self.lower(ty, &field, &offset(addr, off), file, depth + 1, out)?;
                        }
                    }
                    let _ = writeln!(out, "{indent}}}");
                }
            }
            TypeDefKind::Type(t) => self.lower(t, value, addr, file, depth, out)?,
            other => bail!("{} types are not supported", other.as_str()),
        }
        Ok(())
    }
}
