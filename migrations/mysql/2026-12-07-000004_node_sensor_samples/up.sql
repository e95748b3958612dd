-- Sensor readings the conductor collects from BMCs ([sensor_data]).
-- `latest` marks the newest collection of each node, which /metrics and
-- the sensors API read; older rows are history kept for `retention`.
CREATE TABLE node_sensor_samples (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    node_id INTEGER NOT NULL REFERENCES nodes (id),
    sensor_type VARCHAR(32) NOT NULL,
    name VARCHAR(255) NOT NULL,
    reading DOUBLE,
    unit VARCHAR(32) NOT NULL,
    health VARCHAR(16),
    lower_critical DOUBLE,
    lower_non_critical DOUBLE,
    upper_non_critical DOUBLE,
    upper_critical DOUBLE,
    latest BOOLEAN NOT NULL DEFAULT FALSE,
    collected_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX sensor_samples_node_time_idx ON node_sensor_samples (node_id, collected_at);
CREATE INDEX sensor_samples_latest_idx ON node_sensor_samples (latest, node_id);
