//! The files of one Go package per WIT interface: types, imports (with
//! their wasip1 declarations and host stubs) and exports.

use super::*;

impl Generator<'_> {
    pub(super) fn interface(
        &self,
        id: InterfaceId,
        imported: bool,
        exported: bool,
        files: &mut Files,
    ) -> Result<()> {
        let iface = &self.resolve.interfaces[id];
        let (path, package) = self.interface_path(id)?;
        let dir = path
            .strip_prefix(&format!("{}/", self.root))
            .unwrap_or(&path)
            .to_string();
        let wit_name = self.resolve.id_of(id).unwrap_or_default();
        let doc = format!(
            "// Package {package} is the WIT interface {wit_name}:\n// its types{}.\n",
            match (imported, exported) {
                (true, _) => ", and Go functions calling the host's imports",
                (_, true) => ", and the exports a connector implements in Exports",
                _ => "",
            }
        );

        let mut types = GoFile::new(&path);
        for (name, &ty) in &iface.types {
            self.type_definition(name, ty, &mut types)?;
        }
        let has_types = !types.body.is_empty();
        let mut helper_names = std::mem::take(&mut types.helper_names);
        if has_types {
            files.insert(format!("{dir}/types.go"), types.finish(&package, &doc));
        }

        if imported {
            let mut imports = GoFile::new(&path);
            let mut raw = GoFile::new(&path);
            let mut host = GoFile::new(&path);
            imports.helper_names = std::mem::take(&mut helper_names);
            for (name, &ty) in &iface.types {
                if let TypeDefKind::Resource = self.resolve.types[ty].kind {
                    let go = exported_name(name);
                    let _ = write!(
                        imports.body,
                        "// Drop releases the handle; the value may not be used afterwards.\nfunc (self {go}) Drop() {{\n\twasmimport_{go}Drop(uint32(self))\n}}\n\n"
                    );
                    let _ = write!(
                        raw.body,
                        "//go:wasmimport {wit_name} [resource-drop]{name}\nfunc wasmimport_{go}Drop(self uint32)\n\n"
                    );
                    let _ = write!(
                        host.body,
                        "func wasmimport_{go}Drop(self uint32) {{\n\tpanic(hostOnly)\n}}\n\n"
                    );
                }
            }
            for func in iface.functions.values() {
                self.import_function(&wit_name, func, &mut imports, &mut raw, &mut host)?;
            }
            helper_names = std::mem::take(&mut imports.helper_names);
            if imports.body.is_empty() {
                // A types-only interface (its types are used, not its functions).
                return self.exports(id, exported, has_types, &doc, helper_names, files);
            }
            let header = if has_types {
                String::new()
            } else {
                doc.clone()
            };
            files.insert(
                format!("{dir}/imports.go"),
                imports.finish(&package, &header),
            );
            files.insert(
                format!("{dir}/imports_wasip1.go"),
                raw.finish(&package, "//go:build wasip1\n\n"),
            );
            host.body.insert_str(
                0,
                &format!("// hostOnly is why the imports panic outside a component.\nconst hostOnly = \"{wit_name} is only available inside a wasmconnect component (GOOS=wasip1)\"\n\n"),
            );
            files.insert(
                format!("{dir}/imports_other.go"),
                host.finish(&package, "//go:build !wasip1\n\n"),
            );
        }

        self.exports(id, exported, has_types, &doc, helper_names, files)
    }

    /// The exports file and its trampolines, for an exported interface.
    pub(super) fn exports(
        &self,
        id: InterfaceId,
        exported: bool,
        has_types: bool,
        doc: &str,
        helper_names: BTreeSet<String>,
        files: &mut Files,
    ) -> Result<()> {
        let iface = &self.resolve.interfaces[id];
        let (path, package) = self.interface_path(id)?;
        let dir = path
            .strip_prefix(&format!("{}/", self.root))
            .unwrap_or(&path)
            .to_string();
        let wit_name = self.resolve.id_of(id).unwrap_or_default();
        if exported {
            let mut exports = GoFile::new(&path);
            exports.helper_names = helper_names;
            exports.body.push_str("// Exports holds the Go functions the host's calls run; the kit sets them.\nvar Exports struct {\n");
            let mut fields = Vec::new();
            for func in iface.functions.values() {
                if !matches!(func.kind, FunctionKind::Freestanding) {
                    bail!("exported function `{}` is not freestanding", func.name);
                }
                let signature = self.go_signature(func, &mut exports, false)?;
                fields.push((exported_name(&func.name), format!("func{signature}")));
            }
            let width = fields.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, ty) in &fields {
                let _ = writeln!(exports.body, "\t{name:width$} {ty}");
            }
            exports.body.push_str("}\n\n");
            let mut trampolines = GoFile::new(&path);
            trampolines.helper_names = std::mem::take(&mut exports.helper_names);
            for func in iface.functions.values() {
                self.export_function(&wit_name, func, &mut trampolines)?;
            }
            let header = if has_types {
                String::new()
            } else {
                doc.to_string()
            };
            files.insert(
                format!("{dir}/exports.go"),
                exports.finish(&package, &header),
            );
            files.insert(
                format!("{dir}/exports_wasip1.go"),
                trampolines.finish(&package, "//go:build wasip1\n\n"),
            );
        }
        Ok(())
    }

    /// `(params) results` of the Go function for `func`; methods leave out
    /// `self` when `method` is set.
    pub(super) fn go_signature(
        &self,
        func: &Function,
        file: &mut GoFile,
        method: bool,
    ) -> Result<String> {
        let mut params = Vec::new();
        let skip = usize::from(method);
        for param in &func.params[skip..] {
            params.push(format!(
                "{} {}",
                local_name(&param.name),
                self.go_type(&param.ty, file)?
            ));
        }
        let result = match &func.result {
            Some(ty) => format!(" {}", self.go_type(ty, file)?),
            None => String::new(),
        };
        Ok(format!("({}){result}", params.join(", ")))
    }

    pub(super) fn type_definition(&self, name: &str, id: TypeId, file: &mut GoFile) -> Result<()> {
        let def = &self.resolve.types[id];
        let go = exported_name(name);
        let c = self.cabi(file);
        let docs = def
            .docs
            .contents
            .as_deref()
            .map(|d| {
                d.lines()
                    .map(|l| format!("// {l}").trim_end().to_string() + "\n")
                    .collect::<String>()
            })
            .unwrap_or_default();
        match &def.kind {
            TypeDefKind::Type(Type::Id(other)) => {
                let target = self.go_type(&Type::Id(*other), file)?;
                let _ = writeln!(file.body, "// {go} is {target}.\ntype {go} = {target}\n");
                return Ok(());
            }
            TypeDefKind::Type(t) => {
                let target = self.go_type(t, file)?;
                let _ = writeln!(file.body, "{docs}type {go} = {target}\n");
                return Ok(());
            }
            TypeDefKind::Resource => {
                let _ = writeln!(file.body, "{docs}type {go} uint32\n");
                return Ok(());
            }
            TypeDefKind::Record(r) => {
                let _ = writeln!(file.body, "{docs}type {go} struct {{");
                let mut fields = Vec::new();
                for field in &r.fields {
                    fields.push((exported_name(&field.name), self.go_type(&field.ty, file)?));
                }
                let width = fields.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
                for (name, ty) in &fields {
                    let _ = writeln!(file.body, "\t{name:width$} {ty}");
                }
                file.body.push_str("}\n\n");
            }
            TypeDefKind::Enum(e) => {
                let bits = int_bits(e.tag());
                let _ = writeln!(file.body, "{docs}type {go} uint{bits}\n");
                for (i, case) in e.cases.iter().enumerate() {
                    let _ = writeln!(
                        file.body,
                        "const {go}{} {go} = {i}",
                        exported_name(&case.name)
                    );
                }
                file.body.push('\n');
            }
            TypeDefKind::Variant(v) => {
                let bits = int_bits(v.tag());
                let _ = writeln!(
                    file.body,
                    "{docs}//\n// Tag says which case it is; the field named after the case holds its payload.\ntype {go} struct {{"
                );
                let mut fields = vec![("Tag".to_string(), format!("uint{bits}"))];
                for case in &v.cases {
                    if let Some(ty) = &case.ty {
                        fields.push((exported_name(&case.name), self.go_type(ty, file)?));
                    }
                }
                let width = fields.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
                for (name, ty) in &fields {
                    let _ = writeln!(file.body, "\t{name:width$} {ty}");
                }
                file.body.push_str("}\n\n");
                for (i, case) in v.cases.iter().enumerate() {
                    let _ = writeln!(
                        file.body,
                        "const {go}{} uint{bits} = {i}",
                        exported_name(&case.name)
                    );
                }
                file.body.push('\n');
            }
            _ => {
                let target = self.anonymous_type(id, file)?;
                let _ = writeln!(file.body, "{docs}type {go} = {target}\n");
            }
        }
        let value = self.lift_definition(id, "addr", file, 0)?;
        let statements = if let TypeDefKind::Variant(_) = def.kind {
            value
        } else {
            format!("return {value}")
        };
        let _ = writeln!(
            file.body,
            "// Lift{go} reads a {go} at addr.\nfunc Lift{go}(addr uint32) {go} {{\n\t{statements}\n}}\n"
        );
        let mut body = String::new();
        self.lower_definition(id, "v", "addr", file, 0, &mut body)?;
        let _ = writeln!(
            file.body,
            "// Lower{go} writes v at addr; pins keeps what it points to alive.\nfunc Lower{go}(pins *{c}.Pins, addr uint32, v {go}) {{\n{body}}}\n"
        );
        Ok(())
    }

    /// The Go function for an imported `func`, in `file`, over its
    /// `//go:wasmimport` declaration in `raw` and a stub for other
    /// platforms (so that `go test` can build the kit) in `host`.
    pub(super) fn import_function(
        &self,
        module: &str,
        func: &Function,
        file: &mut GoFile,
        raw_file: &mut GoFile,
        host: &mut GoFile,
    ) -> Result<()> {
        let c = self.cabi(file);
        let sig = self.resolve.wasm_signature(AbiVariant::GuestImport, func);
        let raw = format!(
            "wasmimport_{}",
            exported_name(&func.name.replace(['[', ']', '.'], "-"))
        );
        let raw_params: Vec<String> = sig
            .params
            .iter()
            .enumerate()
            .map(|(i, t)| format!("p{i} {}", flat_go(normalize(*t))))
            .collect();
        let raw_result = match sig.results.first() {
            Some(t) => format!(" {}", flat_go(normalize(*t))),
            None => String::new(),
        };
        let _ = writeln!(
            raw_file.body,
            "//go:wasmimport {module} {}\nfunc {raw}({}){raw_result}\n",
            func.name,
            raw_params.join(", ")
        );
        let _ = writeln!(
            host.body,
            "func {raw}({}){raw_result} {{\n\tpanic(hostOnly)\n}}\n",
            raw_params.join(", ")
        );

        let (receiver, go_name, method) = match &func.kind {
            FunctionKind::Freestanding => (String::new(), exported_name(&func.name), false),
            FunctionKind::Method(r) => {
                let r = self.resolve.types[*r].name.clone().unwrap_or_default();
                let method = func.name.rsplit('.').next().unwrap_or(&func.name);
                (
                    format!("(self {}) ", exported_name(&r)),
                    exported_name(method),
                    true,
                )
            }
            FunctionKind::Static(r) => {
                let r = self.resolve.types[*r].name.clone().unwrap_or_default();
                let name = func.name.rsplit('.').next().unwrap_or(&func.name);
                (
                    String::new(),
                    format!("{}{}", exported_name(&r), exported_name(name)),
                    false,
                )
            }
            FunctionKind::Constructor(r) => {
                let r = self.resolve.types[*r].name.clone().unwrap_or_default();
                (String::new(), format!("New{}", exported_name(&r)), false)
            }
            _ => bail!("async function `{}` is not supported", func.name),
        };
        let signature = self.go_signature(func, file, method)?;
        let docs = func
            .docs
            .contents
            .as_deref()
            .map(|d| {
                d.lines()
                    .map(|l| format!("// {l}").trim_end().to_string() + "\n")
                    .collect::<String>()
            })
            .unwrap_or_else(|| format!("// {go_name} calls the host's {}.\n", func.name));
        let _ = writeln!(
            file.body,
            "{docs}func {receiver}{go_name}{signature} {{\n\tpins := &{c}.Pins{{}}"
        );
        let mut args = Vec::new();
        if sig.indirect_params {
            let types: Vec<Type> = func.params.iter().map(|p| p.ty).collect();
            let info = self.sizes.record(types.iter());
            let _ = writeln!(
                file.body,
                "\targs := {c}.Alloc(pins, {}, {})",
                info.size.size_wasm32(),
                info.align.align_wasm32()
            );
            let offsets = self.sizes.field_offsets(types.iter());
            for (param, (off, ty)) in func.params.iter().zip(offsets) {
                let value = if method && param.name == "self" {
                    "self".to_string()
                } else {
                    local_name(&param.name)
                };
                let mut out = String::new();
                self.lower(
                    ty,
                    &value,
                    &offset("args", off.size_wasm32()),
                    file,
                    0,
                    &mut out,
                )?;
                file.body.push_str(&out);
            }
            args.push("args".to_string());
        } else {
            let mut vars = Vec::new();
            let mut out = String::new();
            let mut counter = 0;
            for param in &func.params {
                let value = if method && param.name == "self" {
                    "self".to_string()
                } else {
                    local_name(&param.name)
                };
                self.lower_flat(
                    &param.ty,
                    &value,
                    file,
                    &mut out,
                    "\t",
                    &mut vars,
                    &mut counter,
                )?;
            }
            file.body.push_str(&out);
            args.extend(vars.into_iter().map(|(n, _)| n));
        }
        match &func.result {
            None => {
                let _ = writeln!(file.body, "\t{raw}({})", args.join(", "));
            }
            Some(ty) if sig.retptr => {
                let _ = writeln!(
                    file.body,
                    "\tret := {c}.Alloc(pins, {}, {})",
                    self.size(ty),
                    self.align(ty)
                );
                args.push("ret".into());
                let value = self.lift(ty, "ret", file, 1)?;
                let _ = writeln!(
                    file.body,
                    "\t{raw}({})\n\tresult := {value}",
                    args.join(", ")
                );
            }
            Some(ty) => {
                let _ = writeln!(file.body, "\tr := {raw}({})", args.join(", "));
                let value = self.lift_flat(ty, &["r".to_string()], &mut 0, file)?;
                let _ = writeln!(file.body, "\tresult := {value}");
            }
        }
        file.imports.insert("runtime".into());
        file.body.push_str("\truntime.KeepAlive(pins)\n");
        if func.result.is_some() {
            file.body.push_str("\treturn result\n");
        }
        file.body.push_str("}\n\n");
        Ok(())
    }

    pub(super) fn export_function(
        &self,
        module: &str,
        func: &Function,
        file: &mut GoFile,
    ) -> Result<()> {
        let c = self.cabi(file);
        let sig = self.resolve.wasm_signature(AbiVariant::GuestExport, func);
        let go_name = exported_name(&func.name);
        let vals: Vec<String> = (0..sig.params.len()).map(|i| format!("p{i}")).collect();
        let raw_params: Vec<String> = sig
            .params
            .iter()
            .zip(&vals)
            .map(|(t, v)| format!("{v} {}", flat_go(normalize(*t))))
            .collect();
        let raw_result = match sig.results.first() {
            Some(t) => format!(" {}", flat_go(normalize(*t))),
            None => String::new(),
        };
        let _ = writeln!(
            file.body,
            "//go:wasmexport {module}#{}\nfunc wasmexport_{go_name}({}){raw_result} {{\n\t{c}.Begin()\n\tdefer {c}.End()\n\tif Exports.{go_name} == nil {{\n\t\tpanic(\"wasmconnect: the kit did not set Exports.{go_name} of {module}\")\n\t}}",
            func.name,
            raw_params.join(", ")
        );
        let mut args = Vec::new();
        if sig.indirect_params {
            let types: Vec<Type> = func.params.iter().map(|p| p.ty).collect();
            let offsets = self.sizes.field_offsets(types.iter());
            for (param, (off, ty)) in func.params.iter().zip(offsets) {
                let value = self.lift(ty, &offset("p0", off.size_wasm32()), file, 1)?;
                let name = local_name(&param.name);
                let _ = writeln!(file.body, "\t{name} := {value}");
                args.push(name);
            }
        } else {
            let mut next = 0;
            for param in &func.params {
                let value = self.lift_flat(&param.ty, &vals, &mut next, file)?;
                let name = local_name(&param.name);
                let _ = writeln!(file.body, "\t{name} := {value}");
                args.push(name);
            }
        }
        match &func.result {
            None => {
                let _ = writeln!(file.body, "\tExports.{go_name}({})", args.join(", "));
            }
            Some(ty) if sig.retptr => {
                let _ = writeln!(
                    file.body,
                    "\tresult := Exports.{go_name}({})\n\tpins := &{c}.Retained\n\tret := {c}.Alloc(pins, {}, {})",
                    args.join(", "),
                    self.size(ty),
                    self.align(ty)
                );
                let mut out = String::new();
                self.lower(ty, "result", "ret", file, 0, &mut out)?;
                file.body.push_str(&out);
                file.body.push_str("\treturn ret\n");
            }
            Some(ty) => {
                let _ = writeln!(
                    file.body,
                    "\tresult := Exports.{go_name}({})",
                    args.join(", ")
                );
                let flat = match self.base(ty) {
                    Type::Bool => format!("{c}.FromBool(result)"),
                    Type::U64 | Type::S64 => "uint64(result)".into(),
                    Type::F32 | Type::F64 => "result".into(),
                    _ => "uint32(result)".into(),
                };
                let _ = writeln!(file.body, "\treturn {flat}");
            }
        }
        file.body.push_str("}\n\n");
        Ok(())
    }
}
