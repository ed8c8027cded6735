-- Auditors read each case's messages and deliveries in pages, in id order.
CREATE INDEX messages_by_case_id ON messages(case_id, message_id);
CREATE INDEX deliveries_by_case_id ON deliveries(case_id, delivery_id);
