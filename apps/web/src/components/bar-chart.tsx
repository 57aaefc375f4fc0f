import { Box, Text } from "@mantine/core";

export interface Bar {
  label: string;
  value: number;
  /** Shown at the end of the bar instead of the raw value. */
  display?: string;
  color?: string;
}

/**
 * Horizontal bars in plain SVG-free HTML (no chart library in the bundle): one row per bar, the value
 * at its end, the whole labelled for screen readers. `max` pins the scale (e.g. 100% utilisation).
 */
export function BarChart({
  bars,
  max,
  label,
  unit = "",
}: {
  bars: Bar[];
  max?: number;
  label: string;
  unit?: string;
}) {
  const top = max ?? Math.max(1, ...bars.map((b) => Math.abs(b.value)));
  return (
    <Box role="figure" aria-label={label}>
      {bars.map((b) => (
        <Box
          key={b.label}
          style={{
            display: "grid",
            gridTemplateColumns: "minmax(80px, 30%) 1fr",
            gap: 8,
            alignItems: "center",
          }}
          mb={4}
        >
          <Text fz="xs" className="sb-ellipsis" title={b.label}>
            {b.label}
          </Text>
          <Box style={{ display: "flex", alignItems: "center", gap: 6 }}>
            <Box
              aria-hidden
              style={{
                height: 14,
                width: `${Math.min(100, (Math.abs(b.value) / top) * 100)}%`,
                minWidth: b.value ? 2 : 0,
                background: b.color ?? "var(--mantine-color-blue-6)",
                borderRadius: 2,
              }}
            />
            <Text fz="xs" ff="monospace">
              {b.display ?? `${b.value}${unit}`}
            </Text>
          </Box>
        </Box>
      ))}
    </Box>
  );
}
