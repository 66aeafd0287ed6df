import { sparklineLabel, sparklinePoints } from '../triage';
import './sparkline.css';

/**
 * A tiny trend line (no library: one SVG polyline). It is an image to assistive technology, read out as its
 * total ("12 in the last 24 hours"); the same words are its tooltip.
 */
export function Sparkline({ values, width = 96, height = 24, label }: { values: readonly number[]; width?: number; height?: number; label?: string }) {
  const text = label ?? sparklineLabel(values);
  const flat = values.every((value) => value === 0);
  return (
    <svg className={`sparkline${flat ? ' flat' : ''}`} role="img" aria-label={text} width={width} height={height} viewBox={`0 0 ${width} ${height}`}>
      <title>{text}</title>
      <polyline points={sparklinePoints(values, width, height)} fill="none" strokeWidth={1.5} strokeLinejoin="round" strokeLinecap="round" />
    </svg>
  );
}
