import { useEffect, useRef } from 'react';
import type { EChartsCoreOption } from 'echarts/core';

/**
 * A chart (ECharts, SVG renderer). Always shown next to a table with the same figures; the chart
 * itself is an image with a short text alternative.
 */
export function Chart({ option, label, height = 320 }: { option: EChartsCoreOption; label: string; height?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let disposed = false;
    let chart: { dispose(): void; resize(): void } | undefined;
    const onResize = () => chart?.resize();
    void import('../charts').then(({ echarts }) => {
      if (disposed || !ref.current) return;
      const instance = echarts.init(ref.current, undefined, { renderer: 'svg' });
      instance.setOption({ animation: false, textStyle: { fontFamily: 'inherit' }, ...option });
      chart = instance;
      window.addEventListener('resize', onResize);
    });
    return () => {
      disposed = true;
      window.removeEventListener('resize', onResize);
      chart?.dispose();
    };
  }, [option]);
  return <div className="chart" ref={ref} role="img" aria-label={label} style={{ height }} />;
}
