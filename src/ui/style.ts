/** Colour functions; identity functions when colour is off. Keeps the renderers chalk-free. */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
}

const same = (s: string) => s;
export const NO_STYLE: Style = { bold: same, dim: same, green: same, yellow: same, red: same, cyan: same };
