DROP TABLE node_sensor_samples;
