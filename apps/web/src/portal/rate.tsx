import { Alert, Button, Center, Paper, SegmentedControl, Stack, Text, Textarea, Title } from "@mantine/core";
import { useEffect, useRef, useState } from "react";
import { call, fragment } from "./api.ts";

type Rating = "good" | "okay" | "bad";
const LABEL: Record<Rating, string> = { good: "Good", okay: "Okay", bad: "Bad" };

/**
 * The page a rating link opens (no sign-in: the signed token is the credential). The click already says
 * the rating, so it is recorded as the page opens; the person may change it or add a comment.
 */
export function RatePage() {
  const params = useRef(fragment());
  const token = params.current.get("t") ?? "";
  const first = params.current.get("r") as Rating | null;
  const [ticket, setTicket] = useState<{ number: number; subject: string } | null>(null);
  const [rating, setRating] = useState<Rating | null>(first && first in LABEL ? first : null);
  const [comment, setComment] = useState("");
  const [state, setState] = useState<"idle" | "saved" | "thanks">("idle");
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    call<{ number: number; subject: string }>("POST", "/csat/lookup", { token })
      .then(async (t) => {
        setTicket(t);
        if (rating) {
          await call("POST", "/csat/rate", { token, rating });
          setState("saved");
        }
      })
      .catch((e: Error) => setError(e.message));
  }, [token, rating]);

  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder p="xl" w={480}>
        <Title order={1} size="h2" mb="sm">
          How did we do?
        </Title>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        {ticket && (
          <Stack>
            <Text>
              Ticket #{ticket.number}: {ticket.subject}
            </Text>
            {state === "saved" && rating && (
              <Text role="status">Thank you: we recorded “{LABEL[rating]}”.</Text>
            )}
            <SegmentedControl
              aria-label="Your rating"
              value={rating ?? ""}
              onChange={(v) => setRating(v as Rating)}
              data={(Object.keys(LABEL) as Rating[]).map((r) => ({ value: r, label: LABEL[r] }))}
            />
            <Textarea
              label="Anything to add? (optional)"
              value={comment}
              onChange={(e) => setComment(e.currentTarget.value)}
              maxLength={5000}
            />
            <Button
              disabled={!rating}
              onClick={async () => {
                try {
                  await call("POST", "/csat/rate", { token, rating, comment });
                  setState("thanks");
                } catch (e) {
                  setError((e as Error).message);
                }
              }}
            >
              Send
            </Button>
            {state === "thanks" && <Text role="status">Thanks for your feedback.</Text>}
          </Stack>
        )}
      </Paper>
    </Center>
  );
}
