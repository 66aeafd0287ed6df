import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'react';

// Only the pieces a bar chart needs: Chart.js tree-shakes the rest out of the bundle.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

export interface BarSeries {
  label: string;
  data: number[];
  /** A CSS colour; severities use their badge colours so the chart and the tables agree. */
  color: string;
}

/**
 * A bar chart on a canvas (Chart.js: tooltips, legend toggling, responsive resizing). The canvas is an image
 * to assistive technology, so `summary` says in words what it shows.
 */
export function BarChart({ labels, series, stacked = false, summary, height = 260 }: { labels: string[]; series: BarSeries[]; stacked?: boolean; summary: string; height?: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar'> | undefined>(undefined);

  useEffect(() => {
    chart.current = new Chart(canvas.current!, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
    return () => chart.current?.destroy();
  }, [stacked]);

  // New data updates the chart in place (no flicker on refetch).
  useEffect(() => {
    const current = chart.current;
    if (!current) return;
    current.data.labels = labels;
    current.data.datasets = series.map((s) => ({ label: s.label, data: s.data, backgroundColor: s.color, borderWidth: 0, barPercentage: 0.9, categoryPercentage: 0.9 }));
    current.update();
  }, [labels, series]);

  return (
    <div className="chart-box" style={{ height }}>
      <canvas ref={canvas} role="img" aria-label={summary} />
    </div>
  );
}
