import { createSystem, defaultConfig } from "@chakra-ui/react";
import type { SystemContext } from "@chakra-ui/react";
import { useSyncExternalStore } from "react";

declare global {
  // Set by Airflow's UI (3.1+) for plugins: its Chakra system, with its theme tokens.
  var ChakraUISystem: SystemContext | undefined;
}

let fallback: SystemContext | undefined;

/** Airflow's own Chakra system, or Chakra's default one when the view runs outside Airflow. */
export const hostSystem = (): SystemContext => {
  if (globalThis.ChakraUISystem) {
    return globalThis.ChakraUISystem;
  }
  fallback ??= createSystem(defaultConfig);
  return fallback;
};

const root = (): HTMLElement => document.documentElement;

const subscribe = (changed: () => void): (() => void) => {
  const observer = new MutationObserver(changed);
  observer.observe(root(), { attributeFilter: ["class", "style"], attributes: true });
  return () => observer.disconnect();
};

/** Whether Airflow's UI is in dark mode now (it puts a `dark` class on <html>), following changes. */
export const useDarkMode = (): boolean => useSyncExternalStore(subscribe, () => root().classList.contains("dark"));

/**
 * A theme colour as the page resolves it now (canvas charts cannot use CSS variables): the value of
 * a Chakra token's variable, such as `colors.fg.muted`, or `fallback` when the theme lacks it.
 */
export const tokenColor = (token: string, fallbackColor: string): string => {
  const variable = `--chakra-${token.replaceAll(".", "-")}`;
  const value = getComputedStyle(root()).getPropertyValue(variable).trim();
  if (!value) {
    return fallbackColor;
  }
  // A token may point at another (var(--chakra-colors-gray-900)): let the browser resolve it.
  const probe = document.createElement("span");
  probe.style.color = `var(${variable})`;
  document.body.appendChild(probe);
  const resolved = getComputedStyle(probe).color;
  probe.remove();
  return resolved || fallbackColor;
};
