// The views build as one UMD file that Airflow's UI loads with import() (its react_apps loader)
// and that registers its component on globalThis. React and the JSX runtime are the host's:
// a second copy would break hooks. Chakra UI and Chart.js are bundled, and the component draws
// with the Chakra system the host puts on globalThis, so the views wear Airflow's theme.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  build: {
    emptyOutDir: false,
    lib: {
      entry: "src/main.tsx",
      fileName: () => "braket-ui.js",
      formats: ["umd"],
      name: "AirflowPlugin",
    },
    outDir: "../airflow_provider_braket/ui/static",
    rollupOptions: {
      external: ["react", "react-dom", "react/jsx-runtime"],
      output: {
        globals: { react: "React", "react-dom": "ReactDOM", "react/jsx-runtime": "ReactJSXRuntime" },
      },
    },
    sourcemap: false,
  },
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  plugins: [react()],
});
