"""Operations: serving, logs, metrics, outages, migrations, deployment files, the README."""
