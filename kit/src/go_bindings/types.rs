//! Go types for WIT types, and the helper functions named after them.

use super::*;

impl Generator<'_> {
    pub(super) fn flat(&self, ty: &Type) -> Result<Vec<WasmType>> {
        let mut storage = [WasmType::I32; 64];
        let mut flat = FlatTypes::new(&mut storage);
        if !self.resolve.push_flat(ty, &mut flat) {
            bail!("a type flattens to more than 64 values");
        }
        Ok(flat.to_vec().into_iter().map(normalize).collect())
    }

    pub(super) fn size(&self, ty: &Type) -> usize {
        self.sizes.size(ty).size_wasm32()
    }

    pub(super) fn align(&self, ty: &Type) -> usize {
        self.sizes.align(ty).align_wasm32()
    }

    pub(super) fn interface_path(&self, id: InterfaceId) -> Result<(String, String)> {
        let iface = &self.resolve.interfaces[id];
        let Some(name) = &iface.name else {
            bail!("anonymous interfaces are not supported");
        };
        let Some(package) = iface.package else {
            bail!("interface `{name}` belongs to no package");
        };
        let package = &self.resolve.packages[package].name;
        let go = package_name(name);
        Ok((
            format!(
                "{}/{}/{}/{go}",
                self.root,
                package_name(&package.namespace),
                package_name(&package.name)
            ),
            go,
        ))
    }

    /// Follows `use` aliases to the definition a type refers to.
    pub(super) fn dealias(&self, mut id: TypeId) -> TypeId {
        while let TypeDefKind::Type(Type::Id(next)) = &self.resolve.types[id].kind {
            id = *next;
        }
        id
    }

    /// The package-qualified Go name of a named type, as `file` sees it.
    pub(super) fn named(&self, id: TypeId, file: &mut GoFile, name: &str) -> Result<String> {
        let TypeOwner::Interface(owner) = self.resolve.types[id].owner else {
            bail!("type `{name}` is not defined in an interface");
        };
        let (path, package) = self.interface_path(owner)?;
        let go = exported_name(name);
        if path == file.path {
            Ok(go)
        } else {
            file.imports.insert(path);
            Ok(format!("{package}.{go}"))
        }
    }

    /// The named type `ty` resolves to, if any, with its name.
    pub(super) fn named_id(&self, ty: &Type) -> Option<(TypeId, String)> {
        let Type::Id(id) = ty else { return None };
        let id = self.dealias(*id);
        let def = &self.resolve.types[id];
        if let TypeDefKind::Type(_) = def.kind {
            return None; // an alias of a primitive (`type json = string`)
        }
        def.name.clone().map(|name| (id, name))
    }

    /// Strips aliases of primitives (`type json = string`) down to them.
    pub(super) fn base(&self, ty: &Type) -> Type {
        if let Type::Id(id) = ty {
            let id = self.dealias(*id);
            if let TypeDefKind::Type(inner) = &self.resolve.types[id].kind {
                return self.base(inner);
            }
            return Type::Id(id);
        }
        *ty
    }

    pub(super) fn go_type(&self, ty: &Type, file: &mut GoFile) -> Result<String> {
        if let Some((id, name)) = self.named_id(ty) {
            return self.named(id, file, &name);
        }
        Ok(match self.base(ty) {
            Type::Bool => "bool".into(),
            Type::U8 => "uint8".into(),
            Type::U16 => "uint16".into(),
            Type::U32 => "uint32".into(),
            Type::U64 => "uint64".into(),
            Type::S8 => "int8".into(),
            Type::S16 => "int16".into(),
            Type::S32 => "int32".into(),
            Type::S64 => "int64".into(),
            Type::F32 => "float32".into(),
            Type::F64 => "float64".into(),
            Type::Char => "rune".into(),
            Type::String => "string".into(),
            Type::ErrorContext => bail!("error-context is not supported"),
            Type::Id(id) => self.anonymous_type(id, file)?,
        })
    }

    pub(super) fn cabi(&self, file: &mut GoFile) -> String {
        file.imports.insert(format!("{}/cabi", self.root));
        "cabi".into()
    }

    pub(super) fn anonymous_type(&self, id: TypeId, file: &mut GoFile) -> Result<String> {
        Ok(match &self.resolve.types[id].kind {
            TypeDefKind::List(Type::U8) => "[]byte".into(),
            TypeDefKind::List(elem) => format!("[]{}", self.go_type(elem, file)?),
            TypeDefKind::Option(inner) => format!("*{}", self.go_type(inner, file)?),
            TypeDefKind::Result(r) => {
                let ok = match &r.ok {
                    Some(t) => self.go_type(t, file)?,
                    None => format!("{}.Unit", self.cabi(file)),
                };
                let err = match &r.err {
                    Some(t) => self.go_type(t, file)?,
                    None => format!("{}.Unit", self.cabi(file)),
                };
                format!("{}.Result[{ok}, {err}]", self.cabi(file))
            }
            TypeDefKind::Tuple(t) => {
                if !(2..=4).contains(&t.types.len()) {
                    bail!("tuples of {} elements are not supported", t.types.len());
                }
                let mut elems = Vec::new();
                for ty in &t.types {
                    elems.push(self.go_type(ty, file)?);
                }
                format!(
                    "{}.Tuple{}[{}]",
                    self.cabi(file),
                    t.types.len(),
                    elems.join(", ")
                )
            }
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => {
                let r = self.dealias(*r);
                let name = self.resolve.types[r].name.clone().unwrap_or_default();
                self.named(r, file, &name)?
            }
            other => bail!("anonymous {} types are not supported", other.as_str()),
        })
    }

    /// A Go name for the structure of `ty`, to name helper functions by.
    pub(super) fn mangle(&self, ty: &Type, file: &mut GoFile) -> Result<String> {
        if let Some((id, name)) = self.named_id(ty) {
            return Ok(self.named(id, file, &name)?.replace('.', "_"));
        }
        Ok(match self.base(ty) {
            Type::Id(id) => match &self.resolve.types[id].kind {
                TypeDefKind::List(t) => format!("List{}", self.mangle(t, file)?),
                TypeDefKind::Option(t) => format!("Option{}", self.mangle(t, file)?),
                TypeDefKind::Result(r) => {
                    let mut name = String::from("Result");
                    for t in [&r.ok, &r.err] {
                        name.push_str(&match t {
                            Some(t) => self.mangle(t, file)?,
                            None => "Unit".into(),
                        });
                    }
                    name
                }
                TypeDefKind::Tuple(t) => {
                    let mut name = String::from("Tuple");
                    for t in &t.types {
                        name.push_str(&self.mangle(t, file)?);
                    }
                    name
                }
                _ => exported_name(&self.go_type(ty, file)?.replace(['.', '[', ']', '*'], "")),
            },
            other => exported_name(&self.go_type(&other, file)?),
        })
    }

    /// The name of a Go function `func(addr uint32) T` reading a `ty`: the
    /// type's own Lift function, or a helper written into `file` once.
    pub(super) fn lift_fn(&self, ty: &Type, file: &mut GoFile) -> Result<String> {
        if let Some((id, name)) = self.named_id(ty) {
            let go = self.named(id, file, &name)?;
            return Ok(match go.rsplit_once('.') {
                Some((package, name)) => format!("{package}.Lift{name}"),
                None => format!("Lift{go}"),
            });
        }
        let name = format!("lift{}", self.mangle(ty, file)?);
        if file.helper_names.insert(name.clone()) {
            let go = self.go_type(ty, file)?;
            let value = self.lift(ty, "addr", file, 0)?;
            let _ = write!(
                file.helpers,
                "func {name}(addr uint32) {go} {{\n\treturn {value}\n}}\n\n"
            );
        }
        Ok(name)
    }

    /// The name of a Go function `func(pins *cabi.Pins, addr uint32, v T)`
    /// writing a `ty`, as [`Self::lift_fn`].
    pub(super) fn lower_fn(&self, ty: &Type, file: &mut GoFile) -> Result<String> {
        if let Some((id, name)) = self.named_id(ty) {
            let go = self.named(id, file, &name)?;
            return Ok(match go.rsplit_once('.') {
                Some((package, name)) => format!("{package}.Lower{name}"),
                None => format!("Lower{go}"),
            });
        }
        let name = format!("lower{}", self.mangle(ty, file)?);
        if file.helper_names.insert(name.clone()) {
            let go = self.go_type(ty, file)?;
            let c = self.cabi(file);
            let mut body = String::new();
            self.lower(ty, "v", "addr", file, 0, &mut body)?;
            let _ = write!(
                file.helpers,
                "func {name}(pins *{c}.Pins, addr uint32, v {go}) {{\n{body}}}\n\n"
            );
        }
        Ok(name)
    }
}
