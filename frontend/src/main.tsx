// The Braket views of Airflow's UI. Airflow (3.1+) loads this bundle for each of the plugin's
// react_apps and renders its component with the route's dagId, runId, taskId and mapIndex: a task
// instance's tab gets all four, a DAG run's tab the first two, the nav page none.
import { ChakraProvider } from "@chakra-ui/react";
import type { FC } from "react";

import { JobsView } from "./JobsView";
import { SweepView } from "./SweepView";
import { TaskInstanceView } from "./TaskInstanceView";
import { hostSystem } from "./theme";

export type PluginProps = { dagId?: string; runId?: string; taskId?: string; mapIndex?: string };

// The names of the plugin's react_apps (airflow_provider_braket/ui/plugin.py). Airflow keeps a
// loaded component under its app's name and imports a bundle URL only once, so the bundle
// registers itself under every name it serves.
const APP_NAMES = ["Braket Jobs", "Braket Job", "Braket Sweep"] as const;

const BraketView: FC<PluginProps> = ({ dagId, mapIndex, runId, taskId }) => {
  let view;
  if (dagId && runId && taskId) {
    view = <TaskInstanceView dagId={dagId} mapIndex={mapIndex} runId={runId} taskId={taskId} />;
  } else if (dagId && runId) {
    view = <SweepView dagId={dagId} runId={runId} />;
  } else {
    view = <JobsView />;
  }
  return <ChakraProvider value={hostSystem()}>{view}</ChakraProvider>;
};

for (const name of APP_NAMES) {
  Reflect.set(globalThis, name, BraketView);
}

export default BraketView;
