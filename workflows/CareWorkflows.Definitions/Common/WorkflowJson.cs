using CareWorkflows.Definitions;
using System.Text.Json;
using System.Text.Json.Serialization;
using NodaTime;
using NodaTime.Serialization.SystemTextJson;

namespace CareWorkflows.Definitions;

/// <summary>JSON settings for states, events and API bodies: camelCase, NodaTime ISO formats, enums as names.</summary>
public static class WorkflowJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);
        o.Converters.Add(new JsonStringEnumConverter());
        o.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        return o;
    }
}
