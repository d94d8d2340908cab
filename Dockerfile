# The same app as a plain container (Azure Container Apps, App Service for Containers, Kubernetes, anywhere).
# Standalone hosting: the in-process loops drive timers and the outbox (FUNCTIONS_CUSTOMHANDLER_PORT is not set).
#   docker build -t careworkflows .
#   docker run -p 8080:8080 -e Storage__Provider=Postgres -e ConnectionStrings__Postgres=... -e Links__SigningKey=... careworkflows
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props CareWorkflows.sln ./
COPY workflows/ workflows/
COPY functions/ functions/
RUN dotnet publish functions/CareWorkflows.Functions.csproj -c Release -o /app -p:UseAppHost=false -p:DebugType=none

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# SQLite (the default store) writes ./data; mount a volume there, or use PostgreSQL for more than one replica.
RUN mkdir -p /app/data && chown "$APP_UID" /app/data
VOLUME /app/data
USER $APP_UID
# The aspnet image listens on ASPNETCORE_HTTP_PORTS=8080. Probes: /health (live), /health/ready (database + migrations).
EXPOSE 8080
ENV ASPNETCORE_ENVIRONMENT=Production
ENTRYPOINT ["dotnet", "CareWorkflows.Functions.dll"]
