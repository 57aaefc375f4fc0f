import {
  Badge,
  Button,
  createTheme,
  defaultVariantColorsResolver,
  Modal,
  Notification,
  Paper,
  parseThemeColor,
  Table,
  TextInput,
  Tooltip,
  type VariantColorsResolver,
} from "@mantine/core";

/**
 * Mantine's light variant puts shade 6 text on a pale tint, under 4.5:1 for yellow, orange, teal.
 * Shade 9 darkened in light mode and shade 3 in dark mode keep the hue and pass WCAG AA.
 */
const variantColorResolver: VariantColorsResolver = (input) => {
  const colors = defaultVariantColorsResolver(input);
  if (input.variant === "light") {
    const parsed = parseThemeColor({ color: input.color ?? input.theme.primaryColor, theme: input.theme });
    if (parsed.isThemeColor) {
      return {
        ...colors,
        color: `light-dark(color-mix(in srgb, var(--mantine-color-${parsed.color}-9) 70%, black), var(--mantine-color-${parsed.color}-3))`,
      };
    }
  }
  return colors;
};

/** Dense and calm: small type, quiet borders, one accent colour, status shown by colour and text both. */
export const theme = createTheme({
  // People who ask their system for less motion get no transitions at all.
  respectReducedMotion: true,
  primaryColor: "indigo",
  variantColorResolver,
  primaryShade: { light: 7, dark: 4 },
  fontFamily: "Inter, ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  fontFamilyMonospace: "ui-monospace, 'JetBrains Mono', Menlo, Consolas, monospace",
  defaultRadius: "sm",
  fontSizes: { xs: "11.5px", sm: "13px", md: "14px", lg: "16px", xl: "19px" },
  headings: { sizes: { h1: { fontSize: "20px" }, h2: { fontSize: "16px" }, h3: { fontSize: "14px" } } },
  components: {
    Button: Button.extend({ defaultProps: { size: "xs" } }),
    TextInput: TextInput.extend({ defaultProps: { size: "sm" } }),
    Badge: Badge.extend({
      defaultProps: { radius: "sm", variant: "light", size: "sm", tt: "none", fw: 600 },
    }),
    Table: Table.extend({ defaultProps: { verticalSpacing: 4, horizontalSpacing: "xs", fz: "sm" } }),
    Paper: Paper.extend({ defaultProps: { withBorder: true, radius: "sm" } }),
    // Mantine's close button has no accessible name of its own.
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close" } } }),
    Tooltip: Tooltip.extend({ defaultProps: { openDelay: 400 } }),
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { "aria-label": "Dismiss" } } }),
  },
});
