import { Alert, Badge, Box, Heading, HStack, NativeSelect, Spinner, Text } from "@chakra-ui/react";
import type { ReactNode } from "react";

import { statusPalette } from "./format";

export const StatusBadge = ({ status }: { readonly status: string }) => (
  <Badge colorPalette={statusPalette(status)} data-testid="status" variant="solid">
    {status}
  </Badge>
);

/** A device's short name, its whole ARN on hover. */
export const DeviceName = ({ arn, name }: { readonly arn: string; readonly name: string }) => (
  <Text as="span" title={arn}>
    {name}
  </Text>
);

export const Section = ({ children, title }: { readonly children: ReactNode; readonly title: string }) => (
  <Box as="section" borderColor="border" borderRadius="md" borderWidth="1px" mb={4} p={4}>
    <Heading as="h3" mb={3} size="sm">
      {title}
    </Heading>
    {children}
  </Box>
);

export const Problem = ({ error }: { readonly error: Error }) => (
  <Alert.Root data-testid="problem" mb={4} status="error">
    <Alert.Indicator />
    <Alert.Content>
      <Alert.Title>The Braket view could not be read</Alert.Title>
      <Alert.Description>{error.message}</Alert.Description>
    </Alert.Content>
  </Alert.Root>
);

export const Loading = () => (
  <HStack p={4}>
    <Spinner size="sm" />
    <Text color="fg.muted">Reading Braket…</Text>
  </HStack>
);

/** A labelled native select (Chakra's), as Airflow's own filter bars have them. */
export const Choice = ({
  label,
  name,
  onChange,
  options,
  value,
}: {
  readonly label: string;
  readonly name: string;
  readonly onChange: (value: string) => void;
  readonly options: { label: string; value: string }[];
  readonly value: string;
}) => (
  <Box>
    <Text color="fg.muted" fontSize="xs" mb={1}>
      {label}
    </Text>
    <NativeSelect.Root size="sm" width="auto">
      <NativeSelect.Field
        aria-label={label}
        name={name}
        onChange={(event) => onChange(event.currentTarget.value)}
        value={value}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </NativeSelect.Field>
      <NativeSelect.Indicator />
    </NativeSelect.Root>
  </Box>
);
