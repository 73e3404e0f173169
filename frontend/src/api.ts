// What the plugin's JSON API (airflow_provider_braket/ui/api.py) answers, and how to ask it.
// The api-server signs these requests with the Airflow UI's own session cookie.

export type Cost = {
  currency?: string;
  total: number;
  unpriced?: boolean;
  [part: string]: unknown;
};

export type Job = {
  jobArn: string;
  jobName: string;
  status: string;
  device: string;
  deviceName: string;
  queuePosition: string | null;
  billableSeconds: number | null;
  cost: Cost | null;
  createdAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  failureReason: string | null;
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tagProblems: string[];
  dagRunUrl: string;
  taskInstanceUrl: string;
  consoleUrl: string;
};

export type RunTotal = {
  dag_id: string;
  run_id: string;
  jobs: number;
  cost: number;
  unpriced: boolean;
  mapped: boolean;
};

export type JobsAnswer = {
  jobs: Job[];
  runs: RunTotal[];
  choices: { dagIds: string[]; statuses: string[]; devices: string[] };
  days: number;
};

export type MetricSeries = Record<string, { iteration: (number | null)[]; timestamp: (number | null)[]; value: number[] }>;

export type LogEvent = { timestamp: number; message: string };

export type TaskInstanceAnswer = {
  job: Job | null;
  attempts: { jobArn: string; status: string; createdAt: string | null }[];
  metrics: MetricSeries;
  logTail: LogEvent[];
  ended?: boolean;
  mayCancel: boolean;
};

export type SweepPoint = {
  mapIndex: number;
  taskId: string;
  jobArn: string;
  jobName: string;
  status: string;
  hyperparameters: Record<string, string>;
  scores: Record<string, number>;
  cost: Cost | null;
};

export type SweepAnswer = {
  points: SweepPoint[];
  rankBy: string[];
  parameters: string[];
  varying: string | null;
  totalCost: number;
  study: { name: string; connId: string } | null;
};

export type Trial = {
  number: number;
  params: Record<string, string | number | boolean>;
  state: string;
  value: number | null;
  cost: number | null;
  jobArn: string | null;
  runId: string | null;
  startedAt: string | null;
  endedAt: string | null;
};

export type StudyAnswer = {
  name: string;
  sampler: string;
  direction: string;
  trials: Trial[];
  omitted: number;
  best: Trial | null;
  bestSoFar: { number: number; value: number; runId: string | null }[];
  states: Record<string, number>;
  totalCost: number;
  importances: Record<string, number> | null;
};

export type RunSummary = { runId: string; started: string; jobs: number; best: number | null; cost: number };

export const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

/** Where the plugin's app is mounted: beside the Airflow UI, under its base path. */
export const apiRoot = (): string => {
  const base = new URL(document.baseURI).pathname.replace(/\/$/, "");
  return `${base}/braket/api`;
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const answerOf = async <T,>(response: Response): Promise<T> => {
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = (await response.json()) as { detail?: unknown };
      detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch {
      // Not JSON: the status text says enough.
    }
    throw new ApiError(response.status, `${response.status}: ${detail}`);
  }
  return (await response.json()) as T;
};

export const getJson = async <T,>(path: string, query: Record<string, string | number | undefined>): Promise<T> => {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") {
      params.set(name, String(value));
    }
  }
  const response = await fetch(`${apiRoot()}${path}?${params.toString()}`, { credentials: "same-origin" });
  return answerOf<T>(response);
};

export const cancelJob = async (jobArn: string): Promise<{ cancellationStatus: string }> => {
  const response = await fetch(`${apiRoot()}/cancel`, {
    body: JSON.stringify({ jobArn }),
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    method: "POST",
  });
  return answerOf(response);
};
