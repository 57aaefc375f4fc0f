/** A small line of a metric's hourly averages; the label says what it shows for screen readers. */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  if (values.length < 2) return null;
  const w = 120;
  const h = 28;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const points = values
    .map(
      (v, i) =>
        `${((i / (values.length - 1)) * w).toFixed(1)},${(h - 2 - ((v - min) / span) * (h - 4)).toFixed(1)}`,
    )
    .join(" ");
  return (
    <svg width={w} height={h} role="img" aria-label={label} style={{ display: "block" }}>
      <title>{label}</title>
      <polyline points={points} fill="none" stroke="var(--mantine-color-blue-7)" strokeWidth={1.5} />
    </svg>
  );
}
