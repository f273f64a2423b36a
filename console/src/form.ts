// The connector configuration form, generated from the plugin's
// `PUT /connector-plugins/{class}/config/validate` answer (Kafka Connect's
// ConfigInfos): one section per group in the order the answer lists them,
// fields by `order_in_group`, input widths from `width`, the documentation
// under each field, recommended values as suggestions, and each key's
// errors beside its field.
//
// The form re-validates as the user types (debounced), and updates the
// fields it has in place rather than rebuilding them, so focus and caret
// stay where the user left them. Keys the plugin does not define (a
// transform's settings, client overrides) go in a free-form box.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import type { ConfigDefinition, ConfigInfos } from "./types.js";

/** How long typing must pause before the form is validated again. */
const DEBOUNCE_MS = 300;

interface Field {
  def: ConfigDefinition;
  wrapper: HTMLElement;
  input: HTMLInputElement | HTMLSelectElement;
  errors: HTMLElement;
  datalist: HTMLDataListElement | null;
  touched: boolean;
}

export interface FormOptions {
  pluginClass: string;
  /** The configuration to start from (an existing connector's when editing). */
  initial: Record<string, string>;
  /** Editing an existing connector: its name cannot change. */
  editing: boolean;
}

export class ConfigForm {
  readonly element: HTMLElement;
  private readonly fields = new Map<string, Field>();
  private readonly groups = new Map<string, HTMLDetailsElement>();
  private readonly groupList: HTMLElement;
  private readonly extras: HTMLTextAreaElement;
  private readonly extraErrors: HTMLElement;
  private timer: number | undefined;
  /** Answers to older requests are dropped (they race the newer ones). */
  private sequence = 0;
  private showAll: boolean;
  last: ConfigInfos | null = null;

  constructor(private readonly opts: FormOptions) {
    this.showAll = opts.editing;
    this.groupList = h("div", { class: "groups" });
    this.extras = h("textarea", {
      class: "extras",
      name: "extra-properties",
      rows: 4,
      spellcheck: "false",
      placeholder: "transforms=mask\ntransforms.mask.type=org.apache.kafka.connect.transforms.MaskField$Value",
      oninput: () => this.schedule(),
    });
    this.extraErrors = h("ul", { class: "errors", "data-errors-for": "extra-properties" });
    this.element = h(
      "div",
      { class: "config-form" },
      this.groupList,
      h(
        "details",
        { class: "group", "data-group": "extra-properties" },
        h("summary", {}, h("h3", {}, "Other properties")),
        h("p", { class: "doc" }, "One key=value per line, for keys the plugin does not define (transforms, predicates, client overrides)."),
        this.extras,
        this.extraErrors,
      ),
    );
  }

  /** Validates the initial configuration and renders the form from the answer. */
  async init(): Promise<ConfigInfos> {
    const initial = { ...this.opts.initial, "connector.class": this.opts.initial["connector.class"] ?? this.opts.pluginClass };
    const infos = await api.validate(this.opts.pluginClass, initial);
    const defined = new Set(infos.configs.flatMap((c) => (c.definition ? [c.definition.name] : [])));
    this.extras.value = Object.entries(initial)
      .filter(([k]) => !defined.has(k))
      .map(([k, v]) => `${k}=${v}`)
      .join("\n");
    const section = this.extras.closest("details");
    if (section && this.extras.value) section.open = true;
    this.apply(infos, initial);
    return infos;
  }

  /** The configuration the form holds: non-empty fields, then the extras. */
  values(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, f] of this.fields) {
      if (f.input.value !== "") out[name] = f.input.value;
    }
    for (const line of this.extras.value.split("\n")) {
      const eq = line.indexOf("=");
      if (eq <= 0) continue;
      const key = line.slice(0, eq).trim();
      if (key && !this.fields.has(key)) out[key] = line.slice(eq + 1).trim();
    }
    out["connector.class"] ??= this.opts.pluginClass;
    return out;
  }

  /** Validates now (cancelling a pending one); every error is shown from now on. */
  async validateNow(showAll = true): Promise<ConfigInfos> {
    window.clearTimeout(this.timer);
    if (showAll) this.showAll = true;
    const seq = ++this.sequence;
    const values = this.values();
    this.element.setAttribute("aria-busy", "true");
    const infos = await api.validate(this.opts.pluginClass, values);
    if (seq === this.sequence) {
      this.element.removeAttribute("aria-busy");
      this.apply(infos, values);
    }
    return infos;
  }

  private schedule(): void {
    window.clearTimeout(this.timer);
    this.element.setAttribute("aria-busy", "true");
    this.timer = window.setTimeout(() => {
      this.validateNow(false).catch((e: unknown) => {
        this.element.removeAttribute("aria-busy");
        replace(this.extraErrors, h("li", {}, `Validation failed: ${e instanceof Error ? e.message : String(e)}`));
      });
    }, DEBOUNCE_MS);
  }

  /** Brings the form in line with a validation answer. */
  private apply(infos: ConfigInfos, values: Record<string, string>): void {
    this.last = infos;
    const ordered = [...infos.configs].sort((a, b) => {
      const ga = groupIndex(infos, a.definition?.group);
      const gb = groupIndex(infos, b.definition?.group);
      return ga - gb || (a.definition?.order_in_group ?? 0) - (b.definition?.order_in_group ?? 0);
    });
    const undefinedErrors: string[] = [];
    for (const { definition, value } of ordered) {
      if (!definition) {
        for (const e of value.errors) undefinedErrors.push(`${value.name}: ${e}`);
        continue;
      }
      let field = this.fields.get(definition.name);
      if (!field) {
        field = this.createField(definition, values[definition.name] ?? "");
        this.fields.set(definition.name, field);
        this.groupSection(definition.group ?? "Other").appendChild(field.wrapper);
        // A key typed among the extras that the plugin now defines moves
        // into its field.
        this.dropExtra(definition.name);
      }
      field.wrapper.hidden = !value.visible;
      const shown = this.showAll || field.touched ? value.errors : [];
      replace(field.errors, shown.map((e) => h("li", {}, e)));
      field.wrapper.classList.toggle("invalid", shown.length > 0);
      field.input.setAttribute("aria-invalid", String(shown.length > 0));
      if (field.datalist) {
        replace(field.datalist, value.recommended_values.map((v) => h("option", { value: v })));
      } else if (field.input instanceof HTMLSelectElement && value.recommended_values.length) {
        syncOptions(field.input, value.recommended_values, definition.default_value);
      }
    }
    replace(this.extraErrors, (this.showAll ? undefinedErrors : []).map((e) => h("li", {}, e)));
    this.openGroupsNeedingAttention();
  }

  /**
   * A group's section: collapsed unless something in it needs attention
   * (a required or HIGH-importance key, a value, an error), so the
   * framework's dozens of optional settings do not bury the plugin's own.
   * It opens by itself when that changes, and never closes by itself.
   */
  private groupSection(name: string): HTMLDetailsElement {
    let section = this.groups.get(name);
    if (!section) {
      section = h("details", { class: "group", "data-group": name }, h("summary", {}, h("h3", {}, name)));
      this.groups.set(name, section);
      this.groupList.appendChild(section);
    }
    return section;
  }

  private openGroupsNeedingAttention(): void {
    for (const f of this.fields.values()) {
      const needs = f.def.required || f.def.importance === "HIGH" || f.input.value !== "" || f.errors.childElementCount > 0;
      const section = this.groups.get(f.def.group ?? "Other");
      if (needs && section && !f.wrapper.hidden) section.open = true;
    }
  }

  private dropExtra(key: string): void {
    const lines = this.extras.value.split("\n");
    const kept = lines.filter((l) => l.slice(0, Math.max(0, l.indexOf("="))).trim() !== key);
    if (kept.length !== lines.length) this.extras.value = kept.join("\n");
  }

  private createField(def: ConfigDefinition, value: string): Field {
    const id = `field-${def.name.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
    const locked = def.name === "connector.class" || (this.opts.editing && def.name === "name");
    const onInput = () => {
      field.touched = true;
      this.schedule();
    };
    let input: HTMLInputElement | HTMLSelectElement;
    let datalist: HTMLDataListElement | null = null;
    if (def.type === "BOOLEAN") {
      input = h("select", { id, name: def.name, onchange: onInput });
      syncOptions(input, ["true", "false"], def.default_value);
      input.value = value;
    } else {
      const listId = `${id}-values`;
      datalist = h("datalist", { id: listId });
      input = h("input", {
        id,
        name: def.name,
        // PASSWORD values are masked as they are typed and shown; the
        // browser must not offer to remember them either.
        type: def.type === "PASSWORD" ? "password" : "text",
        autocomplete: def.type === "PASSWORD" ? "new-password" : "off",
        spellcheck: "false",
        inputmode: ["INT", "LONG", "SHORT", "DOUBLE"].includes(def.type) ? "decimal" : null,
        placeholder: def.default_value ?? (def.type === "LIST" ? "comma-separated" : ""),
        list: listId,
        oninput: onInput,
      });
      input.value = value;
    }
    if (locked) input.setAttribute("readonly", "");
    if (locked && input instanceof HTMLSelectElement) input.disabled = true;
    const errors = h("ul", { class: "errors", role: "alert", "data-errors-for": def.name });
    const wrapper = h(
      "div",
      { class: `field width-${def.width.toLowerCase()} importance-${def.importance.toLowerCase()}`, "data-key": def.name },
      h(
        "label",
        { for: id },
        def.display_name || def.name,
        def.required ? h("span", { class: "required", title: "required" }, " *") : null,
        " ",
        h("code", { class: "key" }, def.name),
        h("span", { class: "type" }, def.type),
      ),
      input,
      datalist,
      errors,
      def.documentation ? h("p", { class: "doc" }, def.documentation) : null,
    );
    const field: Field = { def, wrapper, input, errors, datalist, touched: false };
    return field;
  }
}

function groupIndex(infos: ConfigInfos, group: string | null | undefined): number {
  const i = group ? infos.groups.indexOf(group) : -1;
  return i < 0 ? infos.groups.length : i;
}

/** A select's options: "(default …)" meaning unset, then `values`. */
function syncOptions(select: HTMLSelectElement, values: string[], defaultValue: string | null): void {
  const current = select.value;
  replace(
    select,
    h("option", { value: "" }, defaultValue === null ? "(not set)" : `(default: ${defaultValue})`),
    values.map((v) => h("option", { value: v }, v)),
  );
  select.value = current;
}
