using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CareWorkflows.Tests.Infrastructure;

/// <summary>
/// The built app as a separate OS process on a loopback port (for crash and multi-process tests): started with
/// settings as environment variables, killed with SIGKILL, restarted on the same database.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string> _env;
    private Process? _process;
    private readonly List<string> _output = [];

    public AppProcess(IDictionary<string, string> settings, int? port = null)
    {
        Port = port ?? FreePort();
        _env = new Dictionary<string, string>(settings)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Port}",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        _env.TryAdd("Links__SigningKey", "process-test-signing-key-0123456789");
        _env.TryAdd("DurableTask__GrpcEndpoint", "http://127.0.0.1:0"); // a free port per process
        _env.TryAdd("Auth__Mode", "Demo");
    }

    public int Port { get; }
    public bool IsRunning => _process is { HasExited: false };
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");
    public IReadOnlyList<string> Output { get { lock (_output) return _output.ToList(); } }

    public static string AppDll
    {
        get
        {
            // tests/CareWorkflows.Tests/bin/<Configuration>/net10.0 → functions/bin/<Configuration>/net10.0
            var testBin = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
            var configuration = Path.GetFileName(Path.GetDirectoryName(testBin)!);
            var root = Path.GetFullPath(Path.Combine(testBin, "..", "..", "..", "..", ".."));
            var dll = Path.Combine(root, "functions", "bin", configuration, "net10.0", "CareWorkflows.Functions.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the functions project first.", dll);
        }
    }

    public async Task StartAsync(TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo("dotnet", [AppDll])
        {
            WorkingDirectory = Path.GetDirectoryName(AppDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (k, v) in _env) psi.Environment[k] = v;
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"The app exited with {_process.ExitCode}:\n{string.Join("\n", Output.TakeLast(40))}");
            try
            {
                if ((await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The app did not become ready:\n{string.Join("\n", Output.TakeLast(40))}");
    }

    /// <summary>SIGKILL: no shutdown hooks, leases stay held, in-flight transactions roll back.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public HttpClient Client(string role, string? providerId = null)
    {
        var c = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        c.DefaultRequestHeaders.Add("X-Demo-Role", role);
        if (providerId is not null) c.DefaultRequestHeaders.Add("X-Demo-Provider", providerId);
        return c;
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
