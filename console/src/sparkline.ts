// Small inline SVG line charts: a task's memory and throughput over the
// last couple of minutes. Built as SVG DOM nodes (not markup strings), so
// the page's content security policy needs no inline allowances.

const SVG = "http://www.w3.org/2000/svg";

/** A sparkline of `values` (oldest first), scaled from 0 to its maximum. */
export function sparkline(values: number[], label: string, width = 120, height = 28): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const title = document.createElementNS(SVG, "title");
  title.textContent = label;
  svg.appendChild(title);
  if (values.length < 2) return svg;
  // Zero stays at the bottom so a flat line at 5 MiB does not look like
  // one at 500 MiB; a series of zeros draws along the baseline.
  const max = Math.max(...values, 0) || 1;
  const step = width / (values.length - 1);
  const pad = 2;
  const y = (v: number) => (height - pad - ((height - 2 * pad) * v) / max).toFixed(1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${y(v)}`);
  const area = document.createElementNS(SVG, "polygon");
  area.setAttribute("points", `0,${height} ${points.join(" ")} ${width},${height}`);
  area.setAttribute("class", "spark-area");
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("class", "spark-line");
  svg.append(area, line);
  return svg;
}
