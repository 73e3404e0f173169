import type { Cost } from "./api";

export const money = (cost: Cost | null | undefined, digits = 4): string => {
  if (!cost) {
    return "–";
  }
  const amount = `${cost.total.toFixed(digits)} ${cost.currency ?? "USD"}`;
  return cost.unpriced ? `${amount} + unpriced` : amount;
};

export const when = (iso: string | null | undefined, withSeconds = true): string => {
  if (!iso) {
    return "–";
  }
  const moment = new Date(iso);
  return moment.toLocaleString(undefined, {
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    month: "short",
    second: withSeconds ? "2-digit" : undefined,
  });
};

export const seconds = (from: string | null | undefined, to: string | null | undefined): number | undefined => {
  if (!from) {
    return undefined;
  }
  const end = to ? new Date(to).getTime() : Date.now();
  return Math.max(0, Math.round((end - new Date(from).getTime()) / 1000));
};

export const duration = (total: number | undefined | null): string => {
  if (total === undefined || total === null) {
    return "–";
  }
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  if (hours) {
    return `${hours} h ${minutes} min`;
  }
  return minutes ? `${minutes} min ${rest} s` : `${rest} s`;
};

/** The Chakra color palette of a job status, as Airflow colours task states. */
export const statusPalette = (status: string): string =>
  ({
    CANCELLED: "gray",
    CANCELLING: "orange",
    COMPLETED: "green",
    FAILED: "red",
    QUEUED: "purple",
    RUNNING: "blue",
  })[status] ?? "gray";

export const number = (value: number | undefined): string =>
  value === undefined ? "–" : Number.isInteger(value) ? String(value) : value.toPrecision(6);
