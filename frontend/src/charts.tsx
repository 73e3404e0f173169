// Charts drawn with Chart.js, the library Airflow's own UI draws its charts with, in the colours of
// Airflow's theme (read from its tokens, again when dark mode is switched).
import { Box } from "@chakra-ui/react";
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from "chart.js";
import type { ChartData, ChartOptions } from "chart.js";
import { Chart as ChartView, Line, Scatter } from "react-chartjs-2";

import type { MetricSeries, RunSummary, StudyAnswer, SweepPoint } from "./api";
import { number } from "./format";
import { tokenColor, useDarkMode } from "./theme";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
);

type Palette = { text: string; grid: string; line: string; accent: string; bars: string };

const usePalette = (): Palette => {
  const dark = useDarkMode();
  return {
    accent: tokenColor("colors.orange.500", dark ? "#f59e0b" : "#d97706"),
    bars: tokenColor("colors.orange.400", "#fb923c"),
    grid: tokenColor("colors.border", dark ? "#3f3f46" : "#e4e4e7"),
    line: tokenColor("colors.blue.500", "#3b82f6"),
    text: tokenColor("colors.fg.muted", dark ? "#a1a1aa" : "#52525b"),
  };
};

const axes = (palette: Palette, x: string, y: string) => ({
  x: { grid: { color: palette.grid }, ticks: { color: palette.text }, title: { color: palette.text, display: true, text: x } },
  y: { grid: { color: palette.grid }, ticks: { color: palette.text }, title: { color: palette.text, display: true, text: y } },
});

/** One metric of a job, value by iteration (or by the order logged), the value on hover. */
export const MetricChart = ({ name, series }: { readonly name: string; readonly series: MetricSeries[string] }) => {
  const palette = usePalette();
  const byIteration = series.iteration.every((value) => value !== null);
  const points = series.value.map((value, index) => ({ x: byIteration ? Number(series.iteration[index]) : index, y: value }));
  const data: ChartData<"line", { x: number; y: number }[]> = {
    datasets: [{ borderColor: palette.line, backgroundColor: palette.line, data: points, label: name, pointRadius: 2, tension: 0 }],
  };
  const options: ChartOptions<"line"> = {
    animation: false,
    interaction: { intersect: false, mode: "nearest" },
    maintainAspectRatio: false,
    plugins: {
      legend: { display: false },
      tooltip: {
        callbacks: {
          label: (item) => `${name} = ${number(item.parsed.y ?? undefined)}`,
          title: (items) => (items[0] ? `${byIteration ? "iteration" : "record"} ${items[0].parsed.x}` : ""),
        },
      },
    },
    scales: { ...axes(palette, byIteration ? "iteration" : "record", name), x: { ...axes(palette, "", "").x, title: { color: palette.text, display: true, text: byIteration ? "iteration" : "record" }, type: "linear" } },
  };
  return (
    <Box data-testid="metric-chart" height="260px" position="relative">
      <Line data={data} options={options} />
    </Box>
  );
};

const isNumeric = (values: string[]): boolean => values.every((value) => value.trim() !== "" && !Number.isNaN(Number(value)));

/** Each point's score against one hyperparameter (its map index on hover), the best one starred. */
export const SweepChart = ({
  best,
  parameter,
  points,
  score,
}: {
  readonly best?: string;
  readonly parameter: string;
  readonly points: SweepPoint[];
  readonly score: string;
}) => {
  const palette = usePalette();
  const drawn = points.filter((point) => score in point.scores && parameter in point.hyperparameters);
  const raw = drawn.map((point) => point.hyperparameters[parameter] ?? "");
  const numeric = isNumeric(raw);
  const categories = [...new Set(raw)].sort();
  const x = (value: string): number => (numeric ? Number(value) : categories.indexOf(value));
  // Whole numbers (a depth, a seed) get whole ticks, a little room on each side.
  const whole = !numeric || raw.every((value) => Number.isInteger(Number(value)));
  const xs = drawn.map((point) => x(point.hyperparameters[parameter] ?? ""));
  const [low, high] = [Math.min(...xs), Math.max(...xs)];
  const pad = whole ? 0.5 : (high - low) * 0.05 || 0.5;
  const toPoint = (point: SweepPoint) => ({ mapIndex: point.mapIndex, x: x(point.hyperparameters[parameter] ?? ""), y: point.scores[score] ?? 0 });
  const data: ChartData<"scatter", { mapIndex: number; x: number; y: number }[]> = {
    datasets: [
      { backgroundColor: palette.line, data: drawn.filter((point) => point.jobArn !== best).map(toPoint), label: "points", pointRadius: 5 },
      { backgroundColor: palette.accent, data: drawn.filter((point) => point.jobArn === best).map(toPoint), label: "best", pointRadius: 9, pointStyle: "star", borderColor: palette.accent, borderWidth: 2 },
    ],
  };
  const options: ChartOptions<"scatter"> = {
    animation: false,
    maintainAspectRatio: false,
    plugins: {
      legend: { labels: { color: palette.text } },
      tooltip: {
        callbacks: {
          label: (item) => {
            const raw = item.raw as { mapIndex: number; y: number };
            return `map index ${raw.mapIndex}: ${score} = ${number(raw.y)}`;
          },
        },
      },
    },
    scales: {
      ...axes(palette, parameter, score),
      x: {
        ...axes(palette, parameter, score).x,
        // Whole numbers get a tick at each one (Chart.js would step from the padded minimum).
        afterBuildTicks: whole
          ? (scale: { ticks: { value: number }[] }) => {
              scale.ticks = Array.from({ length: high - low + 1 }, (_, step) => ({ value: low + step }));
            }
          : undefined,
        max: high + pad,
        min: low - pad,
        ticks: {
          callback: (value) => (numeric ? number(Number(value)) : (categories[Number(value)] ?? "")),
          color: palette.text,
        },
        type: "linear",
      },
    },
  };
  return (
    <Box data-testid="sweep-chart" height="280px" position="relative">
      <Scatter data={data} options={options} />
    </Box>
  );
};

/** The DAG's runs: each run's best score (line) and total cost (bars, right axis). */
export const RunsChart = ({ runs, score }: { readonly runs: RunSummary[]; readonly score: string }) => {
  const palette = usePalette();
  const labels = runs.map((run) => new Date(run.started).toLocaleString(undefined, { day: "2-digit", hour: "2-digit", minute: "2-digit", month: "short" }));
  const data: ChartData<"bar" | "line", (number | null)[]> = {
    datasets: [
      { backgroundColor: palette.line, borderColor: palette.line, data: runs.map((run) => run.best), label: `best ${score}`, type: "line", yAxisID: "y" },
      { backgroundColor: palette.bars, data: runs.map((run) => run.cost), label: "cost (USD)", type: "bar", yAxisID: "cost" },
    ],
    labels,
  };
  const options: ChartOptions<"bar" | "line"> = {
    animation: false,
    interaction: { intersect: false, mode: "index" },
    maintainAspectRatio: false,
    plugins: { legend: { labels: { color: palette.text } } },
    scales: {
      cost: { grid: { display: false }, position: "right", ticks: { color: palette.text }, title: { color: palette.text, display: true, text: "cost (USD)" } },
      x: { grid: { color: palette.grid }, ticks: { color: palette.text } },
      y: { grid: { color: palette.grid }, ticks: { color: palette.text }, title: { color: palette.text, display: true, text: `best ${score}` } },
    },
  };
  return (
    <Box data-testid="runs-chart" height="240px" position="relative">
      <ChartView data={data} options={options} type="bar" />
    </Box>
  );
};

/** A study over every run: each finished trial's value (dots) and the best so far (line). */
export const StudyChart = ({ study }: { readonly study: StudyAnswer }) => {
  const palette = usePalette();
  const scored = study.trials.filter((trial) => trial.state === "COMPLETE" && trial.value !== null);
  const data: ChartData<"scatter", { x: number; y: number }[]> = {
    datasets: [
      { backgroundColor: palette.line, data: scored.map((trial) => ({ x: trial.number, y: trial.value ?? 0 })), label: "trial", pointRadius: 4 },
      { backgroundColor: palette.accent, borderColor: palette.accent, data: study.bestSoFar.map((best) => ({ x: best.number, y: best.value })), label: "best so far", pointRadius: 0, showLine: true, stepped: true },
    ],
  };
  const options: ChartOptions<"scatter"> = {
    animation: false,
    maintainAspectRatio: false,
    plugins: { legend: { labels: { color: palette.text } } },
    scales: axes(palette, "trial", study.direction === "maximize" ? "objective (higher is better)" : "objective (lower is better)"),
  };
  return (
    <Box data-testid="study-chart" height="260px" position="relative">
      <Scatter data={data} options={options} />
    </Box>
  );
};
