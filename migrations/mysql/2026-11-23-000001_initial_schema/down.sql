DROP TABLE task_log_lines;
DROP TABLE tasks;
DROP TABLE ports;
DROP TABLE nodes;
DROP TABLE conductors;
DROP TABLE chassis;
